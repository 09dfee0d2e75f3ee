"""Strip timing: which source frames a Sequencer strip actually uses, its handles, and where a result goes.

Plain Python: every function takes the strip's numbers (or any object with the same attribute names), so the
arithmetic is tested without Blender. Blender's own version differences live in ``strips_of`` only.
"""

import os
import re
from collections import namedtuple

#: The digits just before the extension of a frame file: ``plate.1001.exr`` -> ``1001``.
_FRAME_RE = re.compile(r"^(.*?)(\d+)(\.[^.]+)$")

#: What a strip uses: ``frames`` (file frame numbers, in order), ``first_index`` (index of the first used
#: element), ``timeline_start`` (the timeline frame showing the first used frame), ``handles_before`` and
#: ``handles_after`` (source frames on disk outside the used range).
StripUse = namedtuple("StripUse", "frames first_index timeline_start handles_before handles_after")


class Source:
    """A strip or image as the worker sees it: ``pattern`` (absolute), ``use`` (a StripUse), its OCIO colour
    space name, and the strip itself (None for an image)."""

    def __init__(self, name, pattern, use, colorspace, strip=None):
        self.name, self.pattern, self.use, self.colorspace, self.strip = name, pattern, use, colorspace, strip


def strips_of(editor):
    """The top-level strip collection of a sequence editor: ``strips`` (Blender 4.4+) or ``sequences`` (4.2, 4.3)."""
    strips = getattr(editor, "strips", None)
    return strips if strips is not None else editor.sequences


def all_strips_of(editor):
    """Every strip, meta strips' contents included: ``strips_all`` (4.4+) or ``sequences_all`` (4.2, 4.3)."""
    strips = getattr(editor, "strips_all", None)
    return strips if strips is not None else editor.sequences_all


def frame_pattern(filename):
    """``plate.1001.exr`` -> (``plate.####.exr``, 1001); a name without a frame number -> (name, None).

    The ``#`` count is the digit count, so zero padding round-trips (``1.exr`` -> ``#.exr``).
    """
    m = _FRAME_RE.match(filename)
    if not m:
        return filename, None
    head, digits, ext = m.groups()
    return head + "#" * len(digits) + ext, int(digits)


def used_elements(n_elements, frame_start, frame_final_start, frame_final_end, anim_offset_start=0):
    """Indices of the elements a strip shows, as (first, count), clamped to the ``n_elements`` on disk.

    ``frame_start`` is the timeline frame of the strip's content start, ``frame_final_start``/``_end`` (end
    exclusive) what the edit shows; ``anim_offset_start`` elements are skipped before the content starts.
    A strip held past its content shows the last (or first) element: those frames add nothing new.
    """
    # Blender keeps frame_start as a float (sub-frame edits); the elements are whole frames.
    frame_start, frame_final_start, frame_final_end = (int(round(v)) for v in (frame_start, frame_final_start,
                                                                                 frame_final_end))
    anim_offset_start = int(round(anim_offset_start))
    first = frame_final_start - frame_start + anim_offset_start
    last = frame_final_end - 1 - frame_start + anim_offset_start
    first, last = max(first, 0), min(last, n_elements - 1)
    if last < first:
        raise ValueError("the strip shows none of its %d source frame(s)" % n_elements)
    return first, last - first + 1


def strip_use(filenames, frame_start, frame_final_start, frame_final_end, anim_offset_start=0):
    """The source frames an image-sequence strip uses (``filenames`` its elements, in order), as StripUse."""
    frame_start, frame_final_start = int(round(frame_start)), int(round(frame_final_start))
    anim_offset_start = int(round(anim_offset_start))
    numbers = [frame_pattern(name)[1] for name in filenames]
    if len(filenames) > 1 and any(n is None for n in numbers):
        raise ValueError("the strip's files have no frame numbers to build a sequence from: %s" % filenames[0])
    first, count = used_elements(len(filenames), frame_start, frame_final_start, frame_final_end,
                                 anim_offset_start)
    if numbers[0] is None:
        numbers = [None]
    used = numbers[first:first + count]
    timeline_start = frame_start + first - anim_offset_start
    return StripUse(used, first, max(timeline_start, frame_final_start), first, len(filenames) - first - count)


def movie_use(frame_duration, frame_start, frame_final_start, frame_final_end, anim_offset_start=0):
    """The frames a movie strip uses, numbered from 1 as ``matchcut`` numbers movie frames, as StripUse."""
    first, count = used_elements(frame_duration, frame_start, frame_final_start, frame_final_end,
                                 anim_offset_start)
    frame_start, anim_offset_start = int(round(frame_start)), int(round(anim_offset_start))
    return StripUse(list(range(first + 1, first + count + 1)), first, frame_start + first - anim_offset_start,
                    first, frame_duration - first - count)


def handles_for(use, wanted, before=True):
    """How many handle frames a temporal tool can have: ``wanted``, as far as the source has frames both sides
    (after the cut only, for a tool that reads no handles before it: ``before`` False)."""
    limit = min(use.handles_before, use.handles_after) if before else use.handles_after
    return max(0, min(int(wanted), limit))


def sequence_files(pattern, frames=None):
    """The files of an output pattern that exist, as [(frame, path)] in frame order.

    ``pattern`` has one ``#`` run (``out/sh010.####.exr``) or none (a single file). ``frames``, when given,
    limits the list to those frame numbers.
    """
    folder, name = os.path.split(pattern)
    m = re.search(r"#+", name)
    if not m:
        return [(None, pattern)] if os.path.isfile(pattern) else []
    head, tail = name[:m.start()], name[m.end():]
    rx = re.compile(re.escape(head) + r"(-?\d+)" + re.escape(tail) + "$")
    found = []
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return []
    for entry in names:
        hit = rx.match(entry)
        if hit and not entry.startswith("."):
            frame = int(hit.group(1))
            if frames is None or frame in frames:
                found.append((frame, os.path.join(folder, entry)))
    return sorted(found)


def free_channel(occupied, channel, start, end):
    """The first channel above ``channel`` with no strip overlapping [start, end) (end exclusive).

    ``occupied``: (channel, start, end) of the strips already there. Blender has channels 1..128.
    """
    ch = channel + 1
    while ch <= 128:
        if not any(c == ch and s < end and start < e for c, s, e in occupied):
            return ch
        ch += 1
    raise ValueError("no free channel above channel %d for frames %d-%d" % (channel, start, end - 1))
