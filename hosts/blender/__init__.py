"""Matchcut for Blender: AI shot-correction tools on Sequencer strips and Image Editor images.

Blender loads this file; the Blender-facing code is in ``interface`` (imported on register, so the plain
modules stay importable without Blender). Inference runs in the separate Matchcut worker process.
"""


def register():
    from . import interface

    interface.register()


def unregister():
    from . import interface

    interface.unregister()
