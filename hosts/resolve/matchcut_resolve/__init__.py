"""Matchcut for DaVinci Resolve: plain-Python timing, jobs, dialog specs and results built from the worker's tool
descriptions (no Resolve import but host.py's); the worker client is ``matchcut_resolve.client``."""

import os as _os

# The shared worker client (hosts/common/client): an assembled adapter carries a copy as matchcut_resolve/client; in a checkout
# it is found where it lives.
if not _os.path.isdir(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "client")):
    __path__.append(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "..", "..", "common"))  # noqa: F821
