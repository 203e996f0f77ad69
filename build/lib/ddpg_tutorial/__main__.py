"""``python -m ddpg_tutorial`` runs the command line."""

import sys

from ddpg_tutorial.cli import main

sys.exit(main())
