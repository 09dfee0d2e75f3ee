"""What can fill a hole, as plans: every option that applies, frame by frame, and why the others do not.

Four kinds, each built only from frames of the production's own takes:

- **extend**: the outgoing shot's tail or the incoming shot's head carried into the hole from its media's unused
  handles (real frames); or both, cut where they meet, when neither alone has enough.
- **slow**: a neighbour's used range plus its handles retimed to its own length plus the hole's (RIFE in-betweens),
  no slower than ``max_slowdown``; the proposal covers the neighbour too.
- **punch-in**: the neighbour's framing (or ``punch`` times closer, centred on a face) cut from a wider take of the
  scene, at the frames whose action matches, brought to the edit's resolution by super-resolution.
- **bridge**: a few frames dropped inside one continuous shot, interpolated between the frames either side at
  their true times.

A plan is a list of ``Make`` (how each output frame is made); ``matchcut.missing_shots.render`` makes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from matchcut.missing_shots.reframe import Box
from matchcut.missing_shots.shots import INCOMING, OUTGOING, Side, handles, why_no_side
from matchcut.vision.upscale import DEFAULT_UPSCALE

if TYPE_CHECKING:
    from matchcut.missing_shots.holes import Hole
    from matchcut.missing_shots.takes import Footage

#: The kinds of proposal, in the order the report lists a hole's options.
KINDS = ("extend", "slow", "punch-in", "bridge")
#: How each output frame is made: a media frame reused as it is, an in-between of two, a box of one upscaled.
MAKES = ("reuse", "interpolate", "punch")
_EPS = 1e-6


@dataclass(frozen=True)
class Make:
    """One output frame: ``how`` (MAKES) from media ``pattern`` (open with ``origin``) frame ``left``; an
    in-between of ``left`` and ``right`` at ``t``; or the ``box`` of ``left`` brought to the output's size."""

    how: str
    pattern: str
    left: int
    right: int | None = None
    t: float = 0.0
    box: Box | None = None
    origin: int = 0

    @property
    def synthetic(self) -> bool:
        """Pixels no camera recorded (an in-between, an upscale): hosts flag these frames."""
        return self.how != "reuse"

    def describe(self, name: str) -> str:
        if self.how == "reuse":
            return f"{name} frame {self.left}"
        if self.how == "interpolate":
            return f"in-between of {name} frames {self.left} and {self.right} at t={self.t:.3f}"
        return f"{name} frame {self.left}, box {self.box.to_list() if self.box else ''}, upscaled"


@dataclass
class Proposal:
    """One way to fill hole ``hole`` (its index): ``kind`` (KINDS), ``record`` the record frames the new clip
    covers (the hole, or a neighbour and the hole for a slow), ``frames`` one Make per record frame, ``reason``
    one line, ``source`` the clip it is built from, ``size`` (width, height) to render at, ``cost`` the picture
    cost terms ranking reads (``slowdown``, ``upscale``, ``model``, ``interpolated``), ``cuts`` the record frames
    where the proposal meets a shot it does not continue (ranking compares those)."""

    hole: int
    kind: str
    label: str
    record: tuple[int, int]
    frames: list[Make]
    reason: str
    source: str
    size: tuple[int, int]
    cost: dict[str, Any] = field(default_factory=dict)
    meets: dict[str, bool] = field(default_factory=dict)  # side -> whether its cut with that side is a new cut
    side: str = OUTGOING  # the neighbour whose format and colour space it is written in
    like: str = ""  # that neighbour's media
    colorspace: str = ""
    id: str = ""

    @property
    def synthetic_frames(self) -> int:
        return sum(1 for m in self.frames if m.synthetic)


@dataclass(frozen=True)
class Refusal:
    """An option that does not apply to a hole, and why (the report lists these beside the proposals)."""

    hole: int
    kind: str
    why: str


@dataclass(frozen=True)
class Limits:
    """What the editor allows: ``max_slowdown`` (0.5: half speed at most), ``max_bridge`` (frames one bridge may
    make), ``punch`` (0: the neighbour's own framing; 1.5: that much closer than the wider take, centred on a
    face), ``upscale_model`` (the zoo model a punch-in uses)."""

    max_slowdown: float = 0.5
    max_bridge: int = 8
    punch: float = 0.0
    upscale_model: str = DEFAULT_UPSCALE


def _size(side: Side) -> tuple[int, int]:
    return side.edge_plate.width, side.edge_plate.height


def _like(proposal: Proposal, side: Side) -> Proposal:
    """``proposal`` to be written in ``side``'s format and colour space."""
    from matchcut import color

    proposal.like = side.pattern
    proposal.colorspace = color.plate_colorspace(side.edge_plate)
    return proposal


def _word(where: str) -> str:
    return "after" if where == OUTGOING else "before"


# --- extend ---------------------------------------------------------------------------------------------------


def extend(index: int, hole: Hole, sides: dict[str, Side], got: dict[str, list[int]],
           short: dict[str, str]) -> tuple[list[Proposal], list[Refusal]]:
    """The extend options of a hole from the handles ``got`` each side has (nearest first) and why not more
    (``short``)."""
    n = hole.frames
    out, inc = sides.get(OUTGOING), sides.get(INCOMING)
    have_out, have_in = got.get(OUTGOING, []), got.get(INCOMING, [])
    proposals: list[Proposal] = []
    if out is not None and len(have_out) >= n:
        frames = [Make("reuse", out.pattern, f, origin=out.origin) for f in have_out[:n]]
        proposals.append(Proposal(index, "extend", f"extend '{out.name}'", hole.record, frames,
                                  f"'{out.name}' carried on {n} frame(s) into its handles (frames {have_out[0]}-"
                                  f"{have_out[n - 1]} of its media: real frames, nothing made)", out.name, _size(out),
                                  {"frames": n}, {OUTGOING: False, INCOMING: True}, OUTGOING))
    if inc is not None and len(have_in) >= n:
        used = list(reversed(have_in[:n]))
        frames = [Make("reuse", inc.pattern, f, origin=inc.origin) for f in used]
        proposals.append(Proposal(index, "extend", f"extend '{inc.name}' earlier", hole.record, frames,
                                  f"'{inc.name}' started {n} frame(s) earlier, from its handles (frames {used[0]}-"
                                  f"{used[-1]} of its media: real frames)", inc.name, _size(inc),
                                  {"frames": n}, {OUTGOING: True, INCOMING: False}, INCOMING))
    if not proposals and out is not None and inc is not None and len(have_out) + len(have_in) >= n:
        k_out = max(n - len(have_in), min(len(have_out), n - n // 2))
        frames = [Make("reuse", out.pattern, f, origin=out.origin) for f in have_out[:k_out]]
        frames += [Make("reuse", inc.pattern, f, origin=inc.origin) for f in reversed(have_in[:n - k_out])]
        proposals.append(Proposal(index, "extend", f"extend both '{out.name}' and '{inc.name}'", hole.record, frames,
                                  f"'{out.name}' carried on {k_out} frame(s), then a cut to '{inc.name}' started "
                                  f"{n - k_out} earlier (real frames from both shots' handles)", out.name, _size(out),
                                  {"frames": n, "split": k_out}, {OUTGOING: False, INCOMING: False}, OUTGOING))
    if proposals:
        return proposals, []
    parts = []
    for where, side in ((OUTGOING, out), (INCOMING, inc)):
        if side is None:
            parts.append(why_no_side(hole, where) or f"no shot {_word(where)} the hole")
        else:
            parts.append(f"'{side.name}' has {short.get(where) or f'{len(got.get(where, []))} frame(s)'}")
    return [], [Refusal(index, "extend", f"not enough handles for {n} frame(s): " + "; ".join(parts))]


# --- slow -----------------------------------------------------------------------------------------------------


def _retimed(sources: list[int], length: int, side: Side) -> list[Make]:
    """``length`` frames spread evenly over the media frames ``sources`` (ascending, consecutive): each one a
    source frame or the in-between of two at its true time."""
    step = (len(sources) - 1) / (length - 1) if length > 1 else 0.0
    out = []
    for k in range(length):
        pos = k * step
        i = min(int(math.floor(pos + _EPS)), len(sources) - 1)
        t = pos - i
        if t < _EPS or i + 1 >= len(sources):
            out.append(Make("reuse", side.pattern, sources[i], origin=side.origin))
        elif t > 1 - _EPS:
            out.append(Make("reuse", side.pattern, sources[i + 1], origin=side.origin))
        else:
            out.append(Make("interpolate", side.pattern, sources[i], sources[i + 1], t, origin=side.origin))
    return out


def slow(index: int, hole: Hole, sides: dict[str, Side], got: dict[str, list[int]],
         limits: Limits) -> tuple[list[Proposal], list[Refusal]]:
    """A slow option per side: its used range and its handles retimed over its own record range and the hole."""
    n = hole.frames
    proposals, refusals = [], []
    for where in (OUTGOING, INCOMING):
        side = sides.get(where)
        if side is None:
            before = "before" if where == OUTGOING else "after"
            refusals.append(Refusal(index, "slow", f"no shot {before} the hole to slow: "
                                    f"{why_no_side(hole, where) or 'none'}"))
            continue
        have = got.get(where, [])
        if len(have) >= n:
            refusals.append(Refusal(index, "slow", f"'{side.name}' need not be slowed: its handles cover the hole at "
                                    "its own speed (see extend)"))
            continue
        if abs(side.clip.speed - 1.0) > 1e-6:
            refusals.append(Refusal(index, "slow", f"'{side.name}' already plays at {100 * side.clip.speed:.0f} % "
                                    "speed in the edit; slowing a retimed clip again is left to the editor"))
            continue
        used = list(side.frames)
        sources = used + have if where == OUTGOING else list(reversed(have)) + used
        length = len(used) + n
        speed = (len(sources) - 1) / (length - 1) if length > 1 else 1.0
        if speed < limits.max_slowdown - 1e-9:
            refusals.append(Refusal(index, "slow", f"'{side.name}' would play at {100 * speed:.0f} % speed "
                                    f"({len(sources)} frames over {length}), slower than --max-slowdown "
                                    f"{limits.max_slowdown:g}"))
            continue
        record = (side.record[0], hole.record[1]) if where == OUTGOING else (hole.record[0], side.record[1])
        frames = _retimed(sources, length, side)
        made = sum(m.synthetic for m in frames)
        handle_words = f" and {len(have)} frame(s) of handles" if have else ""
        proposals.append(Proposal(
            index, "slow", f"slow '{side.name}' {'into' if where == OUTGOING else 'back over'} the hole, "
            f"{100 * speed:.0f} %", record, frames,
            f"'{side.name}' ({len(used)} frame(s) used{handle_words}) retimed to {length} frames, "
            f"{100 * speed:.0f} % speed, {made} in-between(s) made by RIFE; it replaces the shot's own frames too",
            side.name, _size(side), {"slowdown": speed, "interpolated": made},
            {OUTGOING: where != OUTGOING, INCOMING: where != INCOMING}, where))
    return proposals, refusals


# --- bridge ---------------------------------------------------------------------------------------------------


def bridge(index: int, hole: Hole, sides: dict[str, Side], limits: Limits) -> tuple[list[Proposal], list[Refusal]]:
    """A bridge when the frames either side of the hole are one continuous shot with the hole's frames dropped."""
    from matchcut.missing_shots.shots import thumbnail
    from matchcut.retime.cuts import DEFAULT_THRESHOLD, cut_distance

    n = hole.frames
    out, inc = sides.get(OUTGOING), sides.get(INCOMING)
    if out is None or inc is None:
        where = OUTGOING if out is None else INCOMING
        return [], [Refusal(index, "bridge", f"a bridge needs the shot on both sides: {why_no_side(hole, where)}")]
    a, b = out.edge_frame, inc.edge_frame
    if out.pattern != inc.pattern or b - a != n + 1:
        what = (f"'{out.name}' and '{inc.name}' are different media" if out.pattern != inc.pattern else
                f"'{out.name}' goes from frame {a} to {b} across the {n}-frame hole")
        return [], [Refusal(index, "bridge", f"not one continuous shot with frames dropped: {what}")]
    if n > limits.max_bridge:
        return [], [Refusal(index, "bridge", f"hole too long to bridge: {n} frames, at most {limits.max_bridge} "
                            "(--max-bridge)")]
    distance = cut_distance(thumbnail(out.source.read(a)), thumbnail(inc.source.read(b)))
    if distance > DEFAULT_THRESHOLD:
        return [], [Refusal(index, "bridge", f"frames {a} and {b} of '{out.name}' look like different shots "
                            f"(histogram distance {distance:.2f}): no in-between across a cut")]
    frames = [Make("interpolate", out.pattern, a, b, (k + 1) / (n + 1), origin=out.origin) for k in range(n)]
    return [Proposal(index, "bridge", f"bridge '{out.name}' {a}-{b}", hole.record, frames,
                     f"{n} frame(s) dropped inside '{out.name}', made by RIFE between its frames {a} and {b} at their "
                     "true times", out.name, _size(out), {"interpolated": n, "span": n + 1},
                     {OUTGOING: False, INCOMING: False}, OUTGOING)], []


# --- punch-in -------------------------------------------------------------------------------------------------


def _sync(take_source, box: Box, clip_thumb, candidates: list[int]) -> tuple[int, float]:
    """The take's frame among ``candidates`` whose ``box`` looks most like the clip's frame (mean absolute
    difference of small display images): where its action matches."""
    import cv2
    import numpy as np

    from matchcut.missing_shots.shots import thumbnail

    best, best_err = candidates[0], float("inf")
    th, tw = clip_thumb.shape[:2]
    for f in candidates:
        plate = take_source.read(f)
        x0, y0, x1, y1 = box.pixels(plate.width, plate.height)
        view = thumbnail(plate.with_pixels(np.ascontiguousarray(plate.pixels[y0:y1, x0:x1])), max(th, tw))
        view = cv2.resize(view, (tw, th), interpolation=cv2.INTER_AREA)
        err = float(np.abs(view - clip_thumb).mean())
        if err < best_err:
            best, best_err = f, err
    return best, best_err


def _face_centre(plate, box: Box) -> tuple[tuple[float, float] | None, str]:
    """The centre of the largest face the zoo finds inside ``box`` of the take's frame (pixels), else None."""
    import numpy as np

    from matchcut.errors import MatchcutError
    from matchcut.missing_shots.shots import thumbnail
    from matchcut.vision.faces import detect_faces

    x0, y0, x1, y1 = box.pixels(plate.width, plate.height)
    view = thumbnail(plate.with_pixels(np.ascontiguousarray(plate.pixels[y0:y1, x0:x1])), 640)
    try:
        faces = detect_faces(view)
    except MatchcutError as exc:
        return None, f"no face search ({exc})"
    if not faces:
        return None, "no face found"
    face = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    scale = (x1 - x0) / view.shape[1]  # the view's pixels -> the take's
    cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
    return (x0 + cx * scale, y0 + cy * scale), "centred on the face"


def punch_in(index: int, hole: Hole, sides: dict[str, Side], footage: list[Footage],
             limits: Limits) -> tuple[list[Proposal], list[Refusal]]:
    """A punch-in per side from the first wider take of its scene whose picture holds the side's framing."""
    from matchcut.errors import MatchcutError, SettingError
    from matchcut.missing_shots.reframe import check_upscale, punch_box
    from matchcut.missing_shots.shots import thumbnail
    from matchcut.missing_shots.takes import find_wider_take

    n = hole.frames
    proposals, refusals = [], []
    if not footage:
        return [], [Refusal(index, "punch-in", "no media folders given (--media): nothing to cut a punch-in from")]
    for where in (OUTGOING, INCOMING):
        side = sides.get(where)
        if side is None:
            continue
        edge = side.edge_plate
        width, height = edge.width, edge.height
        wanted = [side.edge_frame + k + 1 for k in range(n)] if where == OUTGOING else \
            [side.edge_frame - n + k for k in range(n)]
        # the framing is located on the take's frame of the edge frame's number when it has one (a second camera)
        take, why = find_wider_take(thumbnail(edge, 960), side.name, side.pattern, footage, [side.edge_frame])
        if take is None:
            refusals.append(Refusal(index, "punch-in", why))
            continue
        have = set(take.source.frames)
        if all(f in have for f in wanted):
            frames_used, sync = wanted, "the same frame numbers (a camera rolling with it)"
        else:
            step = max(1, len(take.source.frames) // 24)
            near, _ = _sync(take.source, take.box, thumbnail(edge, 96), take.source.frames[::step])
            fine = [f for f in take.source.frames if abs(f - near) <= step]
            best, _ = _sync(take.source, take.box, thumbnail(edge, 96), fine)
            first = best + 1 if where == OUTGOING else best - n
            frames_used = list(range(first, first + n))
            if not all(f in have for f in frames_used):
                refusals.append(Refusal(index, "punch-in", f"{take.footage.name}'s action matches '{side.name}' at "
                                        f"its frame {best}, but it has no {n} frame(s) {_word(where)} that"))
                continue
            sync = f"its frame {best} matches the action of '{side.name}' frame {side.edge_frame}"
        plate = take.source.read(frames_used[0])
        if limits.punch:
            centre, centred = _face_centre(plate, take.box)
            box = punch_box(plate.width, plate.height, limits.punch, centre or take.box.centre, width / height)
            framing = f"{limits.punch:g}x closer than {take.footage.name}, {centred if centre else 'on the framing'}"
        else:
            box = punch_box(plate.width, plate.height, plate.width / take.box.w, take.box.centre, width / height)
            framing = f"the framing of '{side.name}'"
        try:
            need = check_upscale(box, height, width, limits.upscale_model)
        except SettingError as exc:
            refusals.append(Refusal(index, "punch-in", str(exc).removeprefix("setting 'punch': ")))
            continue
        except MatchcutError as exc:
            refusals.append(Refusal(index, "punch-in", f"the super-resolution model cannot run: {exc}"))
            continue
        # the take was opened as the runner numbers a movie's frames (from 1)
        frames = [Make("punch", take.footage.pattern, f, box=box, origin=1) for f in frames_used]
        proposals.append(Proposal(
            index, "punch-in", f"punch in on '{take.footage.name}'", hole.record, frames,
            f"{take.why}; {framing}, frames {frames_used[0]}-{frames_used[-1]} ({sync}), brought to {width}x{height} "
            f"by {limits.upscale_model} ({need:.2f}x)", take.footage.name, (width, height),
            {"upscale": need, "model": limits.upscale_model},
            {OUTGOING: True, INCOMING: True}, where))
    return proposals, refusals


def _same(p: Proposal, q: Proposal) -> bool:
    """Whether two proposals make the same frames (their punch-in boxes within two pixels of each other: the
    framing found from either side of a hole)."""
    if p.kind != q.kind or p.record != q.record or len(p.frames) != len(q.frames):
        return False
    for a, b in zip(p.frames, q.frames):
        if (a.how, a.pattern, a.left, a.right, round(a.t, 6)) != (b.how, b.pattern, b.left, b.right, round(b.t, 6)):
            return False
        if (a.box is None) != (b.box is None) or (a.box is not None and max(
                abs(u - v) for u, v in zip(a.box.to_list(), b.box.to_list())) > 2.0):
            return False
    return True


def build(index: int, hole: Hole, footage: list[Footage], limits: Limits,
          sides: dict[str, Side] | None = None) -> tuple[list[Proposal], list[Refusal], dict[str, dict]]:
    """Every option of ``hole`` (its index ``index``) that applies, why each of the others does not, and the handles
    each side can give (side -> {"clip", "frames", "why"}: "why" says what stops them, "" when they cover it).
    ``sides``: the hole's (``shots.sides_of``), when the caller has them already."""
    from matchcut.missing_shots.shots import sides_of

    sides = sides if sides is not None else sides_of(hole)
    got: dict[str, list[int]] = {}
    short: dict[str, str] = {}
    for where, side in sides.items():
        got[where], short[where] = handles(side, hole.frames)
    proposals: list[Proposal] = []
    refusals: list[Refusal] = []
    for made, refused in (extend(index, hole, sides, got, short), slow(index, hole, sides, got, limits),
                          punch_in(index, hole, sides, footage, limits), bridge(index, hole, sides, limits)):
        # both sides may lead to the same frames (a punch-in of one take inside one shot): offer them once
        for p in made:
            if not any(_same(p, q) for q in proposals):
                proposals.append(p)
        refusals += refused
    for k, p in enumerate(proposals, 1):
        p.id = f"hole{index + 1}-{k}-{p.kind}"
        _like(p, sides[p.side])
    if not proposals:
        refusals.append(Refusal(index, "any", longest(hole, sides, got, limits)))
    offered = {where: {"clip": side.name, "frames": len(got[where]), "why": short[where]}
               for where, side in sides.items()}
    return proposals, refusals, offered


def longest(hole: Hole, sides: dict[str, Side], got: dict[str, list[int]], limits: Limits) -> str:
    """What the longest option would give when none covers the hole, in words."""
    n = hole.frames
    parts = [f"the handles give {sum(len(v) for v in got.values())}"]
    for where, side in sides.items():
        sources = len(side.frames) + len(got.get(where, []))
        reach = int(math.floor((sources - 1) / limits.max_slowdown + _EPS)) + 1 - len(side.frames)
        parts.append(f"slowing '{side.name}' to {100 * limits.max_slowdown:g} % gives {max(0, reach)}")
    parts.append(f"a bridge at most {limits.max_bridge}")
    return f"no option covers all {n} frames of the hole: " + ", ".join(parts)
