"""The new timeline coverage writes beside the original (which it never touches): the edit as it was, with the
proposals on new video tracks above it.

Track "Coverage 1" holds each hole's best proposal, enabled; "Coverage 2" and up the others, disabled, so the edit
plays as before until the editor enables one (or plays with the best ones in when they watch it through). A
proposal that would overlap another on its track goes one track higher. Each clip references its rendered frames
(an image sequence) and carries a marker naming the option, its score and its reason; its metadata holds the
proposal's JSON under ``matchcut``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: The name of the n-th coverage track.
TRACK_NAME = "Coverage {}"
#: Marker colours (OpenTimelineIO's names): the best proposal of a hole, the others.
BEST_COLOUR, OTHER_COLOUR = "GREEN", "YELLOW"


def _reference(otio, rendered: dict, rate: float):
    folder, name = os.path.split(rendered["pattern"])
    prefix, _, suffix = name.partition("####")
    count = rendered["last"] - rendered["first"] + 1
    return otio.schema.ImageSequenceReference(
        target_url_base=Path(folder).as_uri() + "/", name_prefix=prefix, name_suffix=suffix,
        start_frame=rendered["first"], frame_step=1, rate=rate, frame_zero_padding=4,
        available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(rendered["first"], rate),
                                                otio.opentime.RationalTime(count, rate)))


def _place(tracks: list[list[tuple[int, int, Any]]], rank: int, record: tuple[int, int]) -> int:
    """The lowest coverage track at or above ``rank`` where ``record`` overlaps nothing placed yet."""
    k = rank
    while True:
        while len(tracks) <= k:
            tracks.append([])
        if all(record[1] < a or record[0] > b for a, b, _ in tracks[k]):
            return k
        k += 1


def assign_levels(holes: list[dict]) -> None:
    """Set ``level`` (1, 2, ...: the coverage track, "Coverage <level>") on every rendered proposal of ``holes``
    (the report's hole dicts, proposals best first): a hole's n-th goes on level n, one higher while it would
    overlap a proposal placed there already. Hosts place proposals by this field."""
    placed: list[list[tuple[int, int, Any]]] = []
    for hole in holes:
        for rank, prop in enumerate(p for p in hole["proposals"] if p.get("rendered")):
            k = _place(placed, rank, tuple(prop["record"]))
            placed[k].append((prop["record"][0], prop["record"][1], None))
            prop["level"] = k + 1


def write_timeline(original: str | os.PathLike, dest: str | os.PathLike, holes: list[dict], rate: float,
                   *, edl_rate: float = 24.0) -> Path:
    """Write ``dest`` (.otio): the timeline at ``original`` with each hole's rendered proposals (``holes``: the
    report's hole dicts, proposals best first, each with ``rendered``) on coverage tracks above, each on its
    ``level`` (assign_levels sets them when missing); atomically.

    Raises FrameWriteError when ``dest`` is the original."""
    import opentimelineio as otio

    from matchcut.errors import FrameWriteError
    from matchcut.timelines.files import open_timeline

    dest = Path(dest)
    if os.path.abspath(dest) == os.path.abspath(original):
        raise FrameWriteError(str(dest), "would overwrite the original timeline")
    timeline = open_timeline(Path(original), rate=edl_rate)
    if any("level" not in p for h in holes for p in h["proposals"] if p.get("rendered")):
        assign_levels(holes)
    placed: list[list[tuple[int, int, Any]]] = []
    for hole in holes:
        for rank, prop in enumerate(p for p in hole["proposals"] if p.get("rendered")):
            first, last = prop["record"]
            clip = otio.schema.Clip(
                name=f"{prop['label']} (hole {hole['index']})",
                media_reference=_reference(otio, prop["rendered"], rate),
                source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(prop["rendered"]["first"], rate),
                                                     otio.opentime.RationalTime(last - first + 1, rate)))
            clip.enabled = rank == 0
            clip.metadata["matchcut"] = {k: v for k, v in prop.items() if k != "thumbs"}
            clip.markers.append(otio.schema.Marker(
                name=f"{'best: ' if rank == 0 else ''}{prop['kind']} {prop['score']:.0f}/100",
                marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(prop["rendered"]["first"], rate),
                                                     otio.opentime.RationalTime(1, rate)),
                color=BEST_COLOUR if rank == 0 else OTHER_COLOUR,
                metadata={"matchcut": {"reason": prop["reason"], "score": prop["score_text"]}}))
            while len(placed) < prop["level"]:
                placed.append([])
            placed[prop["level"] - 1].append((first, last, clip))
    for k, items in enumerate(placed):
        track = otio.schema.Track(name=TRACK_NAME.format(k + 1), kind=otio.schema.TrackKind.Video)
        at = 0
        for first, last, clip in sorted(items, key=lambda t: t[0]):
            if first > at:
                track.append(otio.schema.Gap(duration=otio.opentime.RationalTime(first - at, rate)))
            track.append(clip)
            at = last + 1
        timeline.tracks.append(track)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
    try:
        otio.adapters.write_to_file(timeline, str(tmp), adapter_name="otio_json")
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FrameWriteError(str(dest), exc.strerror or str(exc)) from None
    return dest
