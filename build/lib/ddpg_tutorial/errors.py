"""The one exception type that the command line turns into a one-line message."""


class DDPGError(Exception):
    """A problem the user can fix: bad input, a bad file, a bad setting.

    The message is one sentence that says what is wrong and what to do.  The
    command line prints it as ``error: <message>`` and exits with status 2,
    without a traceback.
    """
