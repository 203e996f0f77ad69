"""ddpg_tutorial: Deep Deterministic Policy Gradient (Lillicrap et al. 2015), small and readable.

Modules, one idea each:

- :mod:`~ddpg_tutorial.buffer`: the replay buffer
- :mod:`~ddpg_tutorial.networks`: actor and critic
- :mod:`~ddpg_tutorial.noise`: Ornstein-Uhlenbeck and Gaussian exploration noise
- :mod:`~ddpg_tutorial.agent`: acting and the DDPG update
- :mod:`~ddpg_tutorial.config`: hyperparameters and presets
- :mod:`~ddpg_tutorial.envs`: making and checking Gymnasium environments
- :mod:`~ddpg_tutorial.evaluation`: greedy evaluation over fixed seeds
- :mod:`~ddpg_tutorial.seeding`: one seed split into independent random streams
- :mod:`~ddpg_tutorial.training`: the training loop, resumable
- :mod:`~ddpg_tutorial.training_state`: crash-safe training states, the replay buffer in chunks
- :mod:`~ddpg_tutorial.history`: what a run records, and its CSV files
- :mod:`~ddpg_tutorial.plotting`: learning curves, returns and losses
- :mod:`~ddpg_tutorial.checkpoint`: agent checkpoints, and safe loading of any saved file
- :mod:`~ddpg_tutorial.files`: atomic writes
- :mod:`~ddpg_tutorial.render`: a policy to an animated GIF
- :mod:`~ddpg_tutorial.source`: showing the library's own source code
- :mod:`~ddpg_tutorial.errors`: the one exception type, :class:`~ddpg_tutorial.errors.DDPGError`
- :mod:`~ddpg_tutorial.cli`: the ``ddpg-tutorial`` command
"""

from ddpg_tutorial.agent import DDPGAgent, UpdateMetrics, soft_update
from ddpg_tutorial.buffer import Batch, ReplayBuffer
from ddpg_tutorial.checkpoint import load_agent, save_agent
from ddpg_tutorial.config import PRESETS, DDPGConfig, get_preset
from ddpg_tutorial.errors import DDPGError
from ddpg_tutorial.evaluation import evaluate
from ddpg_tutorial.history import History
from ddpg_tutorial.networks import Actor, Critic
from ddpg_tutorial.noise import GaussianNoise, OrnsteinUhlenbeckNoise
from ddpg_tutorial.plotting import plot_learning_curve
from ddpg_tutorial.render import render_gif
from ddpg_tutorial.training import Trainer, train

__version__ = "0.2.0"

__all__ = [
    "Actor", "Batch", "Critic", "DDPGAgent", "DDPGConfig", "DDPGError", "GaussianNoise",
    "History", "OrnsteinUhlenbeckNoise", "PRESETS", "ReplayBuffer", "Trainer", "UpdateMetrics",
    "evaluate", "get_preset", "load_agent", "plot_learning_curve", "render_gif", "save_agent",
    "soft_update", "train",
]
