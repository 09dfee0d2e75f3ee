"""Tiny EXR shots and a fake Resolve timeline for the adapter's tests (helpers, imported by the test files)."""
from __future__ import annotations

import functools
import json
import pathlib


def write_exr(path, pixels):
    """A half-float RGB(A) EXR with OpenImageIO (the test's own Python has it; the adapter never does)."""
    import numpy as np
    import OpenImageIO as oiio

    pixels = np.ascontiguousarray(pixels, dtype=np.float32)
    spec = oiio.ImageSpec(pixels.shape[1], pixels.shape[0], pixels.shape[2], oiio.HALF)
    out = oiio.ImageOutput.create(str(path))
    assert out is not None and out.open(str(path), spec)
    out.write_image(pixels)
    out.close()


def photo(height=72, width=96, seed=0):
    """A textured linear image (scikit-image's astronaut, resized), so matching and continuity find features."""
    import numpy as np
    from skimage import data, transform

    img = transform.resize(data.astronaut(), (height, width), anti_aliasing=True).astype(np.float32)
    return np.ascontiguousarray(img ** 2.2 * (1.0 + 0.01 * seed))


def write_shot(folder, name, first, last, pixels=None):
    """Frames first..last of ``name.####.exr`` in ``folder``; returns Resolve's bracketed "File Path"."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    base = photo() if pixels is None else pixels
    for f in range(first, last + 1):
        write_exr(folder / "{}.{:04d}.exr".format(name, f), base)
    return str(folder / "{}.[{:04d}-{:04d}].exr".format(name, first, last))


def make_world(folder, clip_fps="24", timeline_fps="24", speed=1.0, source_start=2, duration=3, renderer=None,
               b_last=1008):
    """A project with one timeline (start 86400): sh010 (astronaut) then sh020 (the same with a red block)
    on V1, the playhead on sh020. sh010 is an EXR sequence 1001-1008, sh020 1001-``b_last``."""
    import fake_resolve as fr

    a = photo()
    b = a.copy()
    b[20:40, 55:80] = [0.9, 0.05, 0.05]
    path_a = write_shot(folder, "sh010", 1001, 1008, a)
    path_b = write_shot(folder, "sh020", 1001, b_last, b)
    timeline = fr.Timeline("Edit 1", timeline_fps, 86400)
    project = fr.Project("Show", timeline, renderer)
    fusion = fr.Fusion()
    resolve = fr.Resolve(project, fusion)
    first = fr.TimelineItem("sh010", fr.media_item(path_a, clip_fps), 86400, 4, 1, timeline_fps)
    second = fr.TimelineItem("sh020", fr.media_item(path_b, clip_fps), 86404, duration, source_start, timeline_fps,
                             speed=speed)
    timeline.add_item(1, first)
    timeline.add_item(1, second)
    timeline.playhead_item = second
    return resolve, project, timeline, first, second


#: The plain timeline facts the adapter reads from Resolve (host.timeline_facts).
TIMELINE = {"name": "Edit 1", "fps": "24", "start_frame": 86400, "project": "Show"}


def item_record(name="sh020", path="/s/sh020.[1001-1100].exr", **over):
    """The plain facts of one timeline item, as the adapter reads them, with ``over`` replacing any."""
    item = {"name": name, "file_path": path, "clip_fps": "24", "record_start": 86410, "duration": 20,
            "source_start": 10, "source_end": 30, "left_offset": 10, "right_offset": 70}
    item.update(over)
    return item


@functools.lru_cache(maxsize=1)
def _described():
    from matchcut.tools.description import describe_all

    return json.dumps(describe_all())


def tool_record(name, **extra):
    """One tool's description as `matchcut tools --json` gives it (this worker's, read in process), with
    ``extra`` replacing any field."""
    tool = json.loads(_described())["tools"][name]
    tool.update(extra)
    return tool
