"""Matchcut for Blender: AI shot-correction tools on Sequencer strips and Image Editor images.

Blender loads this file; the Blender-facing code is in ``interface`` (imported on register, so the plain
modules stay importable without Blender). Inference runs in the separate Matchcut worker process.
"""

import os as _os

# The shared worker client (hosts/common/client): an assembled adapter carries a copy as client/; in a checkout
# it is found where it lives.
if not _os.path.isdir(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "client")):
    __path__.append(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "..", "common"))  # noqa: F821


def register():
    from . import interface

    interface.register()


def unregister():
    from . import interface

    interface.unregister()
