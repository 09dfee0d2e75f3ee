"""The Sequencer's strips as an edit, for a tool that stands on one (coverage): an OpenTimelineIO timeline in its
JSON form, written with the json module (OpenTimelineIO's own reader, in the worker, reads it).

Plain Python: it takes each strip's numbers as a dict (``strip_facts`` in interface.py reads them), so it is
tested without Blender. Channel n is video track n (``V{n}``, channels 1 to the highest used, an empty one an
empty track), so a hole the worker finds on track n is above channel n. Record frames count from the first
strip's first frame (``origin``: the timeline's ``global_start_time``). Image-sequence and movie strips are
clips of their files (the frames they show, trims and offsets included); colour and text strips are
generators (the worker takes them for placeholders, as an editor's slug or title card); a muted strip or
channel is disabled. Sound and effect strips (transitions, transforms, adjustment layers) are left out: the
picture they work on is the strips below; scene, meta, clip and mask strips are left out with a note.
"""

import os
from pathlib import Path

from . import strips as strip_math

#: Strip types that are clips of their files, and those the worker takes for generators (by OTIO's kind).
PICTURES = ("IMAGE", "MOVIE")
GENERATORS = {"COLOR": "SolidColor", "TEXT": "Text"}
#: Strip types left out without a note: sound, and effects that work on the strips below them.
SILENT = ("SOUND", "CROSS", "ADD", "SUBTRACT", "ALPHA_OVER", "ALPHA_UNDER", "GAMMA_CROSS", "MULTIPLY",
          "OVER_DROP", "WIPE", "GLOW", "TRANSFORM", "SPEED", "MULTICAM", "GAUSSIAN_BLUR", "COLORMIX", "ADJUSTMENT")


def _time(value, rate):
    return {"OTIO_SCHEMA": "RationalTime.1", "rate": float(rate), "value": float(value)}


def _range(start, duration, rate):
    return {"OTIO_SCHEMA": "TimeRange.1", "start_time": _time(start, rate), "duration": _time(duration, rate)}


def _reference(strip, rate):
    """The media reference of an image-sequence or movie strip: an ImageSequenceReference over its elements (a
    still: an ExternalReference to its one file); a movie's ExternalReference, its frames from 0."""
    if strip["type"] == "MOVIE":
        return {"OTIO_SCHEMA": "ExternalReference.1", "metadata": {}, "name": os.path.basename(strip["filepath"]),
                "target_url": Path(os.path.abspath(strip["filepath"])).as_uri(),
                "available_range": _range(0, int(strip["frame_duration"]), rate)}
    files = list(strip["files"])
    folder = os.path.abspath(strip["directory"])
    pattern, first = strip_math.frame_pattern(files[0])
    if first is None:
        return {"OTIO_SCHEMA": "ExternalReference.1", "metadata": {}, "name": files[0],
                "target_url": Path(os.path.join(folder, files[0])).as_uri(), "available_range": None}
    head, _, rest = pattern.partition("#")
    tail = rest.lstrip("#")
    return {"OTIO_SCHEMA": "ImageSequenceReference.1", "metadata": {}, "name": "",
            "target_url_base": Path(folder).as_uri() + "/", "name_prefix": head, "name_suffix": tail,
            "start_frame": int(first), "frame_step": 1, "rate": float(rate),
            "frame_zero_padding": len(pattern) - len(head) - len(tail), "missing_frame_policy": "error",
            "available_range": _range(first, len(files), rate), "available_image_bounds": None}


def _source_start(strip):
    """The source frame shown at the strip's first shown frame: the file number of its element (a movie's
    0-based frame), as far before or beyond the elements as the strip is held there."""
    index = int(round(strip["frame_final_start"] - strip["frame_start"] + strip.get("anim_offset_start", 0)))
    if strip["type"] == "MOVIE":
        return index
    first = strip_math.frame_pattern(strip["files"][0])[1]
    return (first or 0) + index


def _clip(strip, rate):
    shown = int(strip["frame_final_end"] - strip["frame_final_start"])
    clip = {"OTIO_SCHEMA": "Clip.2", "name": strip["name"], "metadata": {"blender": {"channel": strip["channel"]}},
            "effects": [], "markers": [], "enabled": not strip.get("mute", False),
            "active_media_reference_key": "DEFAULT_MEDIA"}
    if strip["type"] in GENERATORS:
        ref = {"OTIO_SCHEMA": "GeneratorReference.1", "metadata": {}, "name": strip["name"],
               "generator_kind": GENERATORS[strip["type"]], "parameters": {}, "available_range": None}
        clip.update(source_range=_range(0, shown, rate), media_references={"DEFAULT_MEDIA": ref})
    else:
        clip.update(source_range=_range(_source_start(strip), shown, rate),
                    media_references={"DEFAULT_MEDIA": _reference(strip, rate)})
    return clip


def _gap(frames, rate):
    return {"OTIO_SCHEMA": "Gap.1", "metadata": {}, "name": "", "source_range": _range(0, frames, rate),
            "effects": [], "markers": [], "enabled": True}


def edit_document(name, rate, strips, channels=None):
    """The strips (dicts: ``name``, ``type``, ``channel``, ``frame_start``, ``frame_final_start``,
    ``frame_final_end`` (exclusive), ``anim_offset_start``, ``mute``; an image strip's ``directory`` and
    ``files``, a movie's ``filepath`` and ``frame_duration``) of a scene at ``rate`` fps as an OTIO timeline
    dict: (timeline, origin: the timeline frame of record frame 0, notes: one line per strip left out).
    ``channels``: {channel: {"name", "mute"}}. ValueError when no strip is one the worker reads."""
    kept, notes = [], []
    for strip in strips:
        kind = strip["type"]
        if kind in PICTURES or kind in GENERATORS:
            if kind == "IMAGE" and not strip.get("files"):
                notes.append("image strip '{}' has no files: left out".format(strip["name"]))
                continue
            kept.append(strip)
        elif kind not in SILENT:
            notes.append("{} strip '{}' on channel {} is left out (Matchcut reads image-sequence, movie, colour "
                         "and text strips)".format(kind.lower(), strip["name"], strip["channel"]))
    if not kept:
        raise ValueError("no image-sequence, movie, colour or text strip in the Sequencer: nothing to cover")
    channels = channels or {}
    origin = int(min(s["frame_final_start"] for s in kept))
    tracks = []
    for channel in range(1, max(s["channel"] for s in kept) + 1):
        children, at = [], origin
        for strip in sorted((s for s in kept if s["channel"] == channel), key=lambda s: s["frame_final_start"]):
            start = int(strip["frame_final_start"])
            if start > at:
                children.append(_gap(start - at, rate))
            children.append(_clip(strip, rate))
            at = int(strip["frame_final_end"])
        about = channels.get(channel) or {}
        tracks.append({"OTIO_SCHEMA": "Track.1", "name": str(about.get("name") or "V{}".format(channel)),
                       "kind": "Video", "metadata": {}, "source_range": None, "effects": [], "markers": [],
                       "enabled": not about.get("mute", False), "children": children})
    timeline = {"OTIO_SCHEMA": "Timeline.1", "name": str(name), "metadata": {},
                "global_start_time": _time(origin, rate),
                "tracks": {"OTIO_SCHEMA": "Stack.1", "name": "tracks", "metadata": {}, "source_range": None,
                           "effects": [], "markers": [], "enabled": True, "children": tracks}}
    return timeline, origin, notes


def record_range(first, last, origin):
    """The scene's preview range (timeline frames first..last) as the record frames the tool covers, counted
    from ``origin`` (``edit_document``'s): ``"0-48"``. ValueError when it ends before the first strip."""
    first, last = int(first) - int(origin), int(last) - int(origin)
    if last < 0:
        raise ValueError("the preview range ends at frame {}, before the first strip (frame {})".format(
            last + int(origin), origin))
    return "{}-{}".format(max(first, 0), last) if last > max(first, 0) else str(last)
