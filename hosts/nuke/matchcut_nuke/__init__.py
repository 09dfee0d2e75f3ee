"""Matchcut for Nuke: plain-Python job building, cache keys, knob specs, events and state (no `nuke` import)."""

import os as _os

# The shared worker client (hosts/common/client): an assembled adapter carries a copy as matchcut_nuke/client; in a checkout
# it is found where it lives.
if not _os.path.isdir(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "client")):
    __path__.append(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "..", "..", "common"))  # noqa: F821
