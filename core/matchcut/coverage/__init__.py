"""Missing-shot coverage (issue 20, in progress): the holes in an edit (holes.py); the proposals that fill them are
built from the production's own takes (the upscalers for punch-ins are in ``matchcut.vision.upscale``)."""
