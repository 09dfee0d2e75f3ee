"""The adapter's error for the artist: raised by host.py and by the plain modules that judge what it read."""


class HostError(RuntimeError):
    """Something in Resolve is not as the tool needs it (no project, no item ...); one line for the artist."""
