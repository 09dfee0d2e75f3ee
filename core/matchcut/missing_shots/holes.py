"""The holes in an edit that coverage offers to fill: gaps nothing shows through, clips whose media is offline or
shorter than the range the edit uses, and clips the editor marked as placeholders (a generator or slug, or a
marker of the name or colour ``--marker`` names).

Works on ``matchcut.timelines.Edit`` (the one reader of .otio, EDL and FCP XML): record frames count from the
timeline's start at the edit's rate, first and last inclusive. Each hole keeps the clips either side on its track
(the outgoing and the incoming shot), which every kind of proposal is built from.
"""

from __future__ import annotations

from dataclasses import dataclass

from matchcut.timelines.edit import Clip, Edit, Gap, Track

#: Why a stretch of the edit needs a shot, as the report names it.
KINDS = ("gap", "offline", "short", "placeholder")


@dataclass(frozen=True)
class MarkerRule:
    """Markers that mark a clip as a placeholder: by name (case-insensitive, whole name) or by colour (OTIO's
    marker colours, e.g. RED); either matches."""

    name: str = ""
    colour: str = ""

    @classmethod
    def parse(cls, text: str) -> MarkerRule:
        """``--marker``'s value: ``colour:RED``, ``name:TBD`` or a bare word matching either."""
        kind, sep, value = text.partition(":")
        if sep and kind.strip().lower() in ("colour", "color"):
            return cls(colour=value.strip())
        if sep and kind.strip().lower() == "name":
            return cls(name=value.strip())
        return cls(name=text.strip(), colour=text.strip())

    def matches(self, marker) -> bool:  # noqa: ANN001 - an OpenTimelineIO marker
        name, colour = str(getattr(marker, "name", "") or ""), str(getattr(marker, "color", "") or "")
        return bool((self.name and name.casefold() == self.name.casefold())
                    or (self.colour and colour.casefold() == self.colour.casefold()))


@dataclass
class Hole:
    """Record frames ``record`` (first, last) of ``track`` that need a shot: ``kind`` (KINDS), ``why`` one line;
    ``before``/``after``: the clips either side on the track (None at the edit's start or end); ``clip``: the
    clip that stands in the hole (offline, short or a placeholder), None for a gap."""

    track: str
    record: tuple[int, int]
    kind: str
    why: str
    before: Clip | None = None
    after: Clip | None = None
    clip: Clip | None = None

    @property
    def frames(self) -> int:
        return self.record[1] - self.record[0] + 1


def _neighbours(track: Track, index: int) -> tuple[Clip | None, Clip | None]:
    """The clips before and after item ``index`` of the track (skipping gaps and other holes' clips is not done:
    the nearest clip either side is what a proposal extends or slows)."""
    before = next((c for c in reversed(track.items[:index]) if isinstance(c, Clip)), None)
    after = next((c for c in track.items[index + 1:] if isinstance(c, Clip)), None)
    return before, after


def _runs(frames: list[int]) -> list[tuple[int, int]]:
    """Sorted frame numbers as (first, last) runs of consecutive frames."""
    runs: list[tuple[int, int]] = []
    for f in frames:
        if runs and f == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], f)
        else:
            runs.append((f, f))
    return runs


def _missing_record_frames(clip: Clip, cache: dict) -> list[int]:
    """The record frames of ``clip`` whose source frame is not on disk, when some of the range it uses is (media
    shorter than the edit uses, or frames lost inside it: the timeline reader checks only the two end frames, so
    the sequence is scanned here, once per pattern). Empty when none or all are missing (then it is offline)."""
    from matchcut.errors import MatchcutError
    from matchcut.frames import open_source

    media = clip.media
    if not media.pattern or clip.generated or (media.offline and not media.missing):
        return []
    if media.pattern not in cache:
        try:
            cache[media.pattern] = open_source(media.pattern, first_frame=media.origin)
        except MatchcutError:
            cache[media.pattern] = None
    source = cache[media.pattern]
    if source is None:
        return []
    gone = set(source.find_missing(range(min(media.first, media.last), max(media.first, media.last) + 1)))
    if not gone:
        return []
    out = []
    for r in range(clip.record[0], clip.record[1] + 1):
        if media.first + int((r - clip.record[0]) * clip.speed + 1e-6) in gone:
            out.append(r)
    return out


def _placeholder(clip: Clip, rule: MarkerRule | None) -> str:
    """Why ``clip`` is a placeholder ("" when it is not): a generator, or a marker the rule matches."""
    if clip.generated:
        return f"{clip.describe()} is a {clip.generator} placeholder, not a shot"
    markers = list(getattr(clip.item, "markers", None) or []) if rule is not None else []
    for marker in markers:
        if rule.matches(marker):
            colour = f" ({marker.color})" if getattr(marker, "color", "") else ""
            return f"{clip.describe()} is marked as a placeholder by marker '{marker.name}'{colour}"
    return ""


def find_holes(edit: Edit, marker: MarkerRule | None = None) -> list[Hole]:
    """Every hole of every video track, in track then record order.

    A gap is a hole only where no other track shows a clip (``Gap.hole``) and a clip of its own track comes after
    it (a track simply ending is not a hole); a stretch that is a gap on several tracks is reported once, on the
    lowest. An offline clip is a hole over its whole range; a clip whose media lacks frames, over each run of
    the record frames they would fill; a placeholder (a generator, or a clip with a marker ``marker`` matches)
    over its range.
    """
    holes: list[Hole] = []
    seen_gaps: set[tuple[int, int]] = set()
    sources: dict = {}
    for track in edit.tracks:
        for index, item in enumerate(track.items):
            before, after = _neighbours(track, index)
            if isinstance(item, Gap):
                if not item.hole or after is None or item.record in seen_gaps:
                    continue
                seen_gaps.add(item.record)
                holes.append(Hole(track.name, item.record, "gap", f"{item.describe()} with nothing on any track",
                                  before, after))
                continue
            why = _placeholder(item, marker)
            if why:
                holes.append(Hole(track.name, item.record, "placeholder", why, before, after, item))
                continue
            short = _missing_record_frames(item, sources)
            if short and len(short) < item.record[1] - item.record[0] + 1:
                for first, last in _runs(short):
                    holes.append(Hole(track.name, (first, last), "short",
                                      f"{item.describe()}: its media ({item.media.where}) has no frames for "
                                      f"{last - first + 1} of the frames the edit uses",
                                      before, after, item))
            elif item.media.offline:
                holes.append(Hole(track.name, item.record, "offline", f"{item.describe()}: {item.media.offline}",
                                  before, after, item))
    return holes
