"""Edit level for continuity: which cuts of a timeline to compare, and what is not compared and why.

The timeline is read by ``matchcut.timelines`` (every video track, nested stacks and tracks flattened, gaps,
transitions, generators, speed effects, media found with the show's path mapping). Only clips that meet,
directly or through a transition, make a cut; clips a gap parts are listed apart. Offline media is grouped by
file, each file once with the clips that use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from matchcut.paths import PathMap
from matchcut.timelines import Clip, Edit, Gap, read_edit

#: How many clips a one-line message names before it says "and N more".
NAMED = 3


@dataclass
class Shot:
    """A clip whose media is (or is not) readable: ``pattern`` for open_source and the frames it uses there.

    ``origin``: the frame number of a movie's first frame (open_source's first_frame).
    """

    name: str
    pattern: str
    first: int
    last: int
    offline: str = ""  # why its media cannot be read; "" when it can
    origin: int = 0
    clip: Clip | None = field(default=None, repr=False, compare=False)

    @property
    def generated(self) -> str:
        return self.clip.generator if self.clip is not None else ""


@dataclass
class Cut:
    """Two successive shots of a video track. When they meet (``gap`` None), compare the tail of ``a`` with the
    head of ``b``; ``transition`` says when they meet through one ("dissolve, 10 frames")."""

    a: Shot
    b: Shot
    transition: str = ""
    gap: Gap | None = None

    @property
    def meets(self) -> bool:
        return self.gap is None

    @property
    def label(self) -> str:
        return f"{self.a.name} / {self.b.name}"


@dataclass
class OfflineGroup:
    """One file (or one named clip) that cannot be read, and every shot that uses it."""

    path: str
    reason: str
    shots: list[Shot]

    def clips_text(self) -> str:
        """``clip 'take_1' (reel ZZ100_50)`` or ``147 clips: 'a', 'b', 'c' and 144 more``."""
        described = [s.clip.describe() if s.clip is not None else f"clip '{s.name}'" for s in self.shots]
        unique = list(dict.fromkeys(described))
        if len(self.shots) == 1 or len(unique) == 1:
            return unique[0] + (f" ({len(self.shots)} times)" if len(self.shots) > 1 else "")
        named = ", ".join(d.removeprefix("clip ") for d in unique[:NAMED])
        more = f" and {len(unique) - NAMED} more" if len(unique) > NAMED else ""
        return f"{len(self.shots)} clips: {named}{more}"

    def message(self) -> str:
        """One line: who uses it, the file once, and why it cannot be read."""
        return f"{self.clips_text()}{' ' + self.path if self.path else ''}: {self.reason}"

    def to_dict(self, edit: Edit | None = None) -> dict:
        first = self.shots[0]
        out = {"clip": first.name, "path": self.path, "reason": self.reason,
               "clips": [s.clip.to_dict(edit) if s.clip is not None else {"name": s.name} for s in self.shots]}
        media = first.clip.media if first.clip is not None else None
        if media is not None and media.mapped is not None:
            out["written"], out["mapped_by"] = media.written, media.mapped.rule.text
        elif media is not None and media.written and media.written != self.path:
            out["written"] = media.written
        return out


@dataclass
class CutPlan:
    """A timeline as continuity sees it: successive shots in track order, offline media grouped by file."""

    edit: Edit
    pairs: list[Cut]
    shots: list[Shot]
    offline: list[OfflineGroup]

    @property
    def cuts(self) -> list[Cut]:
        """The pairs that meet: these are compared."""
        return [c for c in self.pairs if c.meets]

    @property
    def apart(self) -> list[Cut]:
        """The pairs a gap parts: not compared."""
        return [c for c in self.pairs if not c.meets]

    @property
    def generated(self) -> list[Shot]:
        return [s for s in self.shots if s.generated]


def _shot(clip: Clip) -> Shot:
    m = clip.media
    return Shot(clip.name, m.pattern, m.first, m.last, "" if clip.generated else m.offline, m.origin, clip)


def offline_groups(shots: list[Shot]) -> list[OfflineGroup]:
    """Offline shots grouped by file (by name when they name none), in timeline order, each file once."""
    from matchcut.timelines.media import missing_frames

    groups: dict[tuple[str, str], list[Shot]] = {}
    for s in shots:
        if not s.offline:
            continue
        where = s.clip.media.where if s.clip is not None else s.pattern
        groups.setdefault(("path", where) if where else ("name", s.name), []).append(s)
    out = []
    for (kind, key), members in groups.items():
        reasons = list(dict.fromkeys(s.offline for s in members))
        media = [s.clip.media for s in members if s.clip is not None]
        if len(reasons) == 1:
            reason = reasons[0]
        elif media and len(media) == len(members) and all(m.missing for m in media):
            reason = missing_frames(key, sorted({f for m in media for f in m.missing}), media[0].on_disk)
        else:
            reason = "; ".join(reasons[:NAMED]) + (f"; and {len(reasons) - NAMED} more reasons" if len(reasons) > NAMED
                                                   else "")
        out.append(OfflineGroup(key if kind == "path" else "", reason, members))
    return out


def plan_cuts(path: str | os.PathLike, *, rate: float = 24.0, paths: PathMap | None = None) -> CutPlan:
    """Successive shots of every video track (those that meet are compared), and offline media by file.

    ``rate``: frames per second of an EDL's timecodes (an EDL does not say; .otio and FCP XML carry theirs).
    ``paths``: path mapping rules, applied before any media is looked for. Raises SettingError when
    OpenTimelineIO (or the adapter for the file's format) is missing, InputError when the file cannot be read
    as a timeline or has no video track.
    """
    edit = read_edit(path, rate=rate, paths=paths)
    shots = {id(c): _shot(c) for c in edit.clips}
    pairs = [Cut(shots[id(j.a)], shots[id(j.b)], j.transition, j.gap) for j in edit.joins]
    ordered = list(shots.values())
    return CutPlan(edit, pairs, ordered, offline_groups(ordered))


def read_cuts(path: str | os.PathLike, *, rate: float = 24.0,
              paths: PathMap | None = None) -> tuple[list[Cut], list[Shot]]:
    """The cuts (clips that meet) of every video track of a timeline, and every shot whose media is offline."""
    plan = plan_cuts(path, rate=rate, paths=paths)
    return plan.cuts, [s for s in plan.shots if s.offline]
