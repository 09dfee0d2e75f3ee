"""An edit as the editor sees it: each video track's clips and gaps in record order, and how they join.

Every top-level video track is walked on its own. Nested stacks (compound clips, nested sequences) and
nested tracks are flattened into the track that holds them the way the editor sees the result: of a nested
stack's layers the top-most with something on it shows, a nested item shows only the part of its content its
range takes, and a speed effect on it (a freeze frame, a slow-down) applies to everything inside. Clips that
end up not shown (under a layer above, trimmed off, disabled) are listed in ``Edit.hidden`` with the reason,
so every clip of the file is accounted for. Transitions join the clips either side; gaps part them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matchcut.errors import InputError
from matchcut.paths import PathMap
from matchcut.timelines.media import Media, locate

#: How ``Edit.notes`` describes the walk, so a report can say which it was.
WALK = ("each video track on its own; nested stacks and tracks flattened into their track as the editor "
        "sees them (the top-most layer with something on it shows)")


@dataclass
class Clip:
    """One clip as the edit shows it.

    ``record``: first and last record frame, counted from the timeline's start at the edit's rate;
    ``source``: first and last source frame shown, at ``rate`` (for an EDL the source timecode's frames);
    ``speed``: source frames per record frame (0 a freeze frame); ``inside``: the nested stacks or tracks it
    comes from, outermost first; ``written``: the media path as the timeline writes it.
    """

    name: str
    track: str
    record: tuple[int, int]
    source: tuple[int, int]
    rate: float
    reel: str = ""
    generator: str = ""
    speed: float = 1.0
    inside: tuple[str, ...] = ()
    media: Media = field(default_factory=Media)
    item: Any = field(default=None, repr=False, compare=False)  # the OpenTimelineIO clip

    @property
    def generated(self) -> bool:
        """Bars, slugs, colour mattes, black, titles: made by the editor, no media to read."""
        return bool(self.generator)

    @property
    def source_timecode(self) -> str:
        return f"{timecode(self.source[0], self.rate)}-{timecode(self.source[1], self.rate)}"

    def describe(self) -> str:
        """``clip 'take_1' (reel ZZ100_50)`` for messages; the reel only where it says more than the name."""
        reel = f" (reel {self.reel})" if self.reel and self.reel.casefold() != self.name.casefold() else ""
        return f"clip '{self.name}'{reel}"

    def to_dict(self, edit: Edit | None = None) -> dict:
        out = {"name": self.name, "track": self.track, "reel": self.reel, "record": list(self.record),
               "source": list(self.source), "source_timecode": self.source_timecode, "rate": self.rate}
        if edit is not None:
            out["record_timecode"] = edit.timecode(self.record[0])
        if self.generator:
            out["generated"] = self.generator
        if self.speed != 1.0:
            out["speed"] = round(self.speed, 4)
        if self.inside:
            out["inside"] = list(self.inside)
        if self.media.written:
            out["written"] = self.media.written
        if self.media.mapped:
            out["mapped_by"] = self.media.mapped.rule.text
        return out


@dataclass
class Gap:
    """Record frames of a track with no clip: a gap, an empty nested stack, a disabled clip.

    ``covered_by``: clips of other video tracks seen there; with none the gap is a hole in the picture.
    """

    track: str
    record: tuple[int, int]
    why: str = "gap"
    covered_by: tuple[str, ...] = ()

    @property
    def frames(self) -> int:
        return self.record[1] - self.record[0] + 1

    @property
    def hole(self) -> bool:
        return not self.covered_by

    def describe(self) -> str:
        what = "a gap" if self.why == "gap" else self.why
        return f"{what} of {self.frames} frame{'s' if self.frames != 1 else ''}"


@dataclass
class Join:
    """Two clips of one track in succession: they meet (through ``transition`` when not "") or ``gap`` parts them."""

    a: Clip
    b: Clip
    transition: str = ""
    gap: Gap | None = None

    @property
    def meets(self) -> bool:
        return self.gap is None

    @property
    def label(self) -> str:
        return f"{self.a.name} / {self.b.name}"


@dataclass
class Hidden:
    """A clip of the file that the edit does not show, and why (under a layer above, trimmed off, disabled)."""

    name: str
    track: str
    inside: tuple[str, ...]
    why: str


@dataclass
class Track:
    name: str
    items: list[Clip | Gap]
    joins: list[Join]


@dataclass
class Edit:
    """A timeline read for the tools that stand on an edit (continuity, coverage)."""

    path: Path
    name: str
    rate: float
    start: int
    tracks: list[Track]
    hidden: list[Hidden]
    clip_count: int
    audio_tracks: int = 0
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def clips(self) -> list[Clip]:
        return [c for t in self.tracks for c in t.items if isinstance(c, Clip)]

    @property
    def gaps(self) -> list[Gap]:
        return [g for t in self.tracks for g in t.items if isinstance(g, Gap)]

    @property
    def joins(self) -> list[Join]:
        return [j for t in self.tracks for j in t.joins]

    def timecode(self, frame: int) -> str:
        """A record frame as timecode from the timeline's start."""
        return timecode(self.start + frame, self.rate)


def timecode(frame: int, rate: float) -> str:
    import opentimelineio as otio

    try:
        return otio.opentime.to_timecode(otio.opentime.RationalTime(frame, rate), rate)
    except Exception:  # a rate OTIO has no timecode for (e.g. 47.952): frames say it as well
        return f"frame {frame}"


# --- the walk ----------------------------------------------------------------------------------------


@dataclass
class _Piece:
    """A shown part of an item: record frames [r0, r1) (fractional until the end), source seconds [s0, s1)."""

    r0: float
    r1: float
    item: Any = None
    s0: float = 0.0
    s1: float = 0.0
    inside: tuple[str, ...] = ()
    why: str = ""  # for a gap piece (item None)
    transition: str = ""  # a transition marker at r0 (item None, r1 == r0)


def _scalar(item) -> float:
    """The speed of an item's own time effects: LinearTimeWarp's time_scalar (FreezeFrame is one at 0)."""
    import opentimelineio as otio

    s = 1.0
    for effect in getattr(item, "effects", None) or ():
        if isinstance(effect, otio.schema.LinearTimeWarp):
            s *= float(effect.time_scalar)
    return s


def _enabled(item) -> bool:
    """OTIO's flag, and Premiere's own in FCP XML metadata (the adapter leaves OTIO's set)."""
    flag = str((item.metadata.get("fcp_xml") or {}).get("enabled", "TRUE")) if hasattr(item, "metadata") else "TRUE"
    return bool(getattr(item, "enabled", True)) and flag.upper() != "FALSE"


def _reel(item) -> str:
    """The source reel (tape name) an editor gave a clip: EDL reel, FCP XML / Premiere reel name."""
    md = item.metadata
    reel = (md.get("cmx_3600") or {}).get("reel")
    if reel:
        return str(reel)
    for meta in (md, getattr(item.media_reference, "metadata", None) or {}):
        fcp = meta.get("fcp_xml") or {}
        for holder in (fcp.get("timecode") or {}, (fcp.get("file") or {}).get("timecode") or {}):
            named = (holder.get("reel") or {}) if isinstance(holder, dict) else {}
            if isinstance(named, dict) and named.get("name"):
                return str(named["name"])
    return ""


class _Walker:
    """Walks compositions into pieces; remembers the clips it shows and those it does not, with the reason."""

    def __init__(self, otio, rate: float):
        self.otio = otio
        self.rate = rate
        self.hidden: list[tuple[Any, tuple[str, ...], str]] = []
        self.shown: set[int] = set()

    def _hide(self, item, inside: tuple[str, ...], why: str) -> None:
        clips = [item] if isinstance(item, self.otio.schema.Clip) else list(item.find_clips()) \
            if isinstance(item, self.otio.core.Composition) else []
        self.hidden += [(c, inside, why) for c in clips]

    def composition(self, comp, t0: float, t1: float, r0: float, r1: float, inside: tuple[str, ...]) -> list[_Piece]:
        """Pieces of a track or stack whose local time [t0, t1) (seconds) shows over record [r0, r1)."""
        if isinstance(comp, self.otio.schema.Stack):
            return self._stack(comp, t0, t1, r0, r1, inside)
        return self._track(comp, t0, t1, r0, r1, inside)

    def _part(self, comp, index: int, t0, t1, r0, r1, inside) -> tuple[float, float, float, float] | None:
        """The part of child ``index`` of ``comp`` that its window shows: (offsets into it, record range) or None.

        A window of no length ([t0, t0), under a freeze frame) shows the one instant t0 for the whole record range.
        """
        child = comp[index]
        rng = comp.range_of_child_at_index(index)
        c0 = rng.start_time.to_seconds()
        c1 = c0 + rng.duration.to_seconds()
        if t1 <= t0:
            if c0 <= t0 < c1:
                return t0 - c0, t0 - c0, r0, r1
            self._hide(child, inside, f"not the frame the freeze in '{inside[-1]}' holds")
            return None
        a, b = max(c0, t0), min(c1, t1)
        if b - a <= 1e-9:
            where = f"'{inside[-1]}'" if inside else "its track"
            self._hide(child, inside, f"trimmed off: outside the range {where} shows")
            return None
        return a - c0, b - c0, r0 + (a - t0) / (t1 - t0) * (r1 - r0), r0 + (b - t0) / (t1 - t0) * (r1 - r0)

    def _track(self, track, t0, t1, r0, r1, inside) -> list[_Piece]:
        pieces: list[_Piece] = []
        for i, child in enumerate(track):
            if isinstance(child, self.otio.schema.Transition):
                cut = track.range_of_child_at_index(i).start_time.to_seconds() + child.in_offset.to_seconds()
                if t0 < t1 and t0 <= cut <= t1:
                    kind = str(child.transition_type or "transition").replace("SMPTE_", "").lower()
                    frames = int(round(child.duration().to_seconds() * self.rate))
                    at = r0 + (cut - t0) / (t1 - t0) * (r1 - r0)
                    pieces.append(_Piece(at, at, transition=f"{kind}, {frames} frames"))
                continue
            part = self._part(track, i, t0, t1, r0, r1, inside)
            if part is not None:
                pieces += self.item(child, *part, inside)
        return pieces

    def item(self, child, off0: float, off1: float, r0: float, r1: float, inside, layer: bool = False) -> list[_Piece]:
        """Pieces of one item of a composition, its offsets [off0, off1) into it shown over record [r0, r1).

        ``layer``: a track that is a layer of a stack, not a nested item of its own (it adds no name to ``inside``).
        """
        otio = self.otio
        if not _enabled(child):
            self._hide(child, inside, "disabled in the edit")
            kind = "clip" if isinstance(child, otio.schema.Clip) else "nested item"
            return [_Piece(r0, r1, inside=inside, why=f"disabled {kind} '{child.name}'")]
        if isinstance(child, otio.schema.Gap):
            return [_Piece(r0, r1, inside=inside, why="gap")]
        try:
            start = child.trimmed_range().start_time.to_seconds()
        except Exception:  # a clip with neither a source nor an available range: it starts at its media's 0
            start = 0.0
        s = _scalar(child)
        s0, s1 = start + off0 * s, start + off1 * s
        if isinstance(child, otio.schema.Clip):
            self.shown.add(id(child))
            return [_Piece(r0, r1, child, s0, s1, inside)]
        if isinstance(child, otio.core.Composition):
            return self.composition(child, s0, s1, r0, r1, inside if layer else inside + (child.name or "nested",))
        return [_Piece(r0, r1, inside=inside, why=f"{child.schema_name()} '{child.name}' (not read)")]

    def _stack(self, stack, t0, t1, r0, r1, inside) -> list[_Piece]:
        """The top-most layer with something on it shows; what no layer covers is a gap."""
        otio = self.otio
        name = inside[-1] if inside else stack.name
        layers = [c for c in stack if not (isinstance(c, otio.schema.Track) and c.kind != otio.schema.TrackKind.Video)]
        if not layers:
            return [_Piece(r0, r1, inside=inside[:-1], why=f"nested stack '{name}', empty in this file")]
        walked = []
        for layer in layers:
            part = self._part(stack, stack.index(layer), t0, t1, r0, r1, inside)
            walked.append([] if part is None else
                          self.item(layer, *part, inside, layer=isinstance(layer, otio.schema.Track)))
        covered: list[tuple[float, float]] = []
        shown: list[_Piece] = []
        for pieces in reversed(walked):  # the last layer is on top
            for p in pieces:
                if p.transition:
                    if not any(c0 < p.r0 < c1 for c0, c1 in covered):
                        shown.append(p)
                    continue
                if p.item is None:
                    continue
                parts = _minus((p.r0, p.r1), covered)
                if not parts:
                    self._hide(p.item, p.inside, f"under a layer above it in '{name}'")
                    self.shown.discard(id(p.item))
                for q0, q1 in parts:
                    f0, f1 = (q0 - p.r0) / (p.r1 - p.r0), (q1 - p.r0) / (p.r1 - p.r0)
                    shown.append(_Piece(q0, q1, p.item, p.s0 + f0 * (p.s1 - p.s0), p.s0 + f1 * (p.s1 - p.s0),
                                        p.inside))
            covered = _union(covered + [(p.r0, p.r1) for p in pieces if p.item is not None])
        for q0, q1 in _minus((r0, r1), covered):
            shown.append(_Piece(q0, q1, inside=inside, why=f"nothing on any layer of '{name}'"))
        return sorted(shown, key=lambda p: (p.r0, p.r1))


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + 1e-9:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _minus(span: tuple[float, float], covered: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The parts of ``span`` that no interval of ``covered`` (sorted, disjoint) overlaps."""
    parts, (a, b) = [], span
    for c0, c1 in covered:
        if c1 <= a or c0 >= b:
            continue
        if c0 > a:
            parts.append((a, c0))
        a = max(a, c1)
    if b - a > 1e-6:
        parts.append((a, b))
    return [(p, q) for p, q in parts if q - p > 1e-6]


def _rate_of(timeline, tracks, fallback: float) -> float:
    if timeline.global_start_time is not None:
        return float(timeline.global_start_time.rate)
    for track in tracks:
        for item in track:
            try:
                return float(item.trimmed_range().duration.rate)
            except Exception:
                continue
    return fallback


def _track_name(index: int, track) -> str:
    return f"V{index}" + (f" '{track.name}'" if track.name and track.name != f"V{index}" else "")


def read_edit(path: str | os.PathLike, *, rate: float = 24.0, paths: PathMap | None = None) -> Edit:
    """Every video track of a timeline file as the editor sees it, each clip's media located on this machine.

    ``rate``: frames per second of an EDL's timecodes. ``paths``: mapping rules, applied before any lookup.
    Raises InputError (matchcut.timelines.files) when the file cannot be read, and when it has no video track.
    """
    from matchcut.timelines.files import open_timeline

    path = Path(os.path.abspath(path))  # messages name the folder media is looked for in
    timeline = open_timeline(path, rate=rate)  # first: it says when OpenTimelineIO is missing
    import opentimelineio as otio

    tops = [t for t in timeline.tracks if isinstance(t, otio.schema.Track)]
    video = [t for t in tops if t.kind == otio.schema.TrackKind.Video]
    audio = len(tops) - len(video)
    if not video:
        has = f"{audio} audio track{'s' if audio != 1 else ''} and no video" if audio else "no tracks at all"
        raise InputError(f"{path}: the timeline has no video track ({has}); the tools compare pictures")
    edit_rate = _rate_of(timeline, video, rate)
    start = int(round(timeline.global_start_time.to_frames())) if timeline.global_start_time is not None else 0
    walker = _Walker(otio, edit_rate)
    cache: dict = {}
    edit = Edit(path, timeline.name or path.stem, edit_rate, start, [], [], 0, audio, [WALK])
    for n, track in enumerate(video, 1):
        label = _track_name(n, track)
        clips = list(track.find_clips())
        edit.clip_count += len(clips)
        if not _enabled(track):
            edit.hidden += [Hidden(c.name, label, (), "its track is disabled") for c in clips]
            continue
        rng = track.trimmed_range()
        t0, dur = rng.start_time.to_seconds(), rng.duration.to_seconds()
        if t0 < 0:  # the cmx_3600 adapter keeps the first record timecode there, negated: not a trim
            if timeline.global_start_time is None and n == 1:
                edit.start = int(round(-t0 * edit_rate))
            t0, dur = 0.0, track.available_range().duration.to_seconds()
        walker.hidden = []
        pieces = walker.composition(track, t0, t0 + dur, 0.0, dur * edit_rate, ())
        edit.tracks.append(_assemble(label, pieces, walker, path, paths, cache))
        edit.hidden += [Hidden(c.name, label, inside, why) for c, inside, why in walker.hidden
                        if id(c) not in walker.shown]
        accounted = {id(c) for c in clips if id(c) in walker.shown} | {id(c) for c, _, _ in walker.hidden}
        edit.hidden += [Hidden(c.name, label, (), "shown for less than a frame") for c in clips
                        if id(c) not in accounted]
    _cover(edit)
    edit.warnings += _path_warnings(edit, paths)
    return edit


def _path_warnings(edit: Edit, paths: PathMap | None) -> list[str]:
    """Each rule that matched nothing, once; each pair of rules that both matched, once, with the winner."""
    if not paths:
        return []
    used, both = set(), {}
    for clip in edit.clips:
        mapped = clip.media.mapped
        if mapped is None:
            continue
        used.add(mapped.rule)
        for other in mapped.shadowed:
            both.setdefault((mapped.rule, other), set()).add(mapped.written)
    out = []
    for (best, other), written in both.items():
        example = sorted(written)[0] + (f" (and {len(written) - 1} more)" if len(written) > 1 else "")
        out.append(f"path map: rules '{other.text}' ({other.origin}) and '{best.text}' ({best.origin}) both match "
                   f"{example}; the longer, '{best.text}', is used")
    out += [f"path map rule '{r.text}' ({r.origin}) matches no media path in {edit.path}"
            for r in paths.rules if r not in used]
    return out


def _assemble(label: str, pieces: list[_Piece], walker: _Walker, path: Path, paths: PathMap | None,
              cache: dict) -> Track:
    """Pieces (fractional frames) as a track of whole-frame clips and gaps, and the joins between clips."""
    items: list[Clip | Gap] = []
    marks: dict[int, str] = {}
    for p in pieces:
        r0, r1 = int(round(p.r0)), int(round(p.r1))
        if p.transition:
            marks[r0] = p.transition
            continue
        if r1 <= r0:
            continue
        if p.item is None:
            if p.r1 - p.r0 < 1 - 1e-6 and items and isinstance(items[-1], Clip):
                # Less than a frame left by a speed change's rounding: the clip before holds its last frame.
                items[-1].record = (items[-1].record[0], r1 - 1)
                continue
            if items and isinstance(items[-1], Gap) and items[-1].record[1] + 1 == r0 and items[-1].why == p.why:
                items[-1].record = (items[-1].record[0], r1 - 1)
            else:
                items.append(Gap(label, (r0, r1 - 1), p.why))
            continue
        items.append(_clip(p, r0, r1, label, walker, path, paths, cache))
    joins = []
    for i, it in enumerate(items):
        if not isinstance(it, Clip):
            continue
        j = i + 1
        while j < len(items) and isinstance(items[j], Gap):
            j += 1
        if j < len(items):
            between = items[i + 1:j]
            gap = None
            if between:
                whys = list(dict.fromkeys(g.why for g in between))
                gap = Gap(label, (between[0].record[0], between[-1].record[1]), " and ".join(whys))
            joins.append(Join(it, items[j], marks.get(it.record[1] + 1, "") if gap is None else "", gap))
    return Track(label, items, joins)


def _clip(p: _Piece, r0: int, r1: int, label: str, walker: _Walker, path: Path, paths: PathMap | None,
          cache: dict) -> Clip:
    otio = walker.otio
    item = p.item
    try:
        rate = float(item.trimmed_range().start_time.rate)
    except Exception:
        rate = walker.rate
    count = r1 - r0
    first = int(round(p.s0 * rate))
    step = (p.s1 - p.s0) * rate / count  # source frames per record frame
    last = first + int(math.floor(step * (count - 1) + 1e-6))
    speed = (p.s1 - p.s0) / (p.r1 - p.r0) * walker.rate  # source time per record time: 1 unless an effect
    ref = item.media_reference
    generator = ""
    if isinstance(ref, otio.schema.GeneratorReference):
        generator = ref.generator_kind or ref.name or "a generator"
    clip = Clip(item.name or "clip", label, (r0, r1 - 1), (first, last), rate, _reel(item), generator,
                round(speed, 6), p.inside, item=item)
    if not generator:
        clip.media = locate(item, clip.source, path.parent, paths, str(path), cache)
    return clip


def _seen(edit: Edit, track: Track, record: tuple[int, int]) -> tuple[str, ...]:
    """Clips of the other video tracks seen during ``record``."""
    return tuple(f"{c.track}: {c.name}" for other in edit.tracks if other is not track for c in other.items
                 if isinstance(c, Clip) and c.record[0] <= record[1] and c.record[1] >= record[0])


def _cover(edit: Edit) -> None:
    """Say for each gap which clips of other video tracks are seen there (none: a hole in the picture)."""
    for track in edit.tracks:
        for gap in [g for g in track.items if isinstance(g, Gap)] + [j.gap for j in track.joins if j.gap]:
            gap.covered_by = _seen(edit, track, gap.record)
