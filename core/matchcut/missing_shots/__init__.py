"""Missing-shot coverage (`matchcut coverage`, issue 20, in progress): the holes in an edit (holes.py); the
proposals that fill them are built from the production's own takes (punch-ins: ``matchcut.vision.upscale``).

Not named ``coverage``: its tests' folder would then shadow the coverage package that numba imports.
"""
