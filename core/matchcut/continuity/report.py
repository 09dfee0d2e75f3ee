"""The continuity report: one offline HTML page (images inline, no network) and the same content as JSON."""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path

import numpy as np

from matchcut.errors import FrameWriteError

THUMB = 160  # px, a region thumbnail's larger side


def png_uri(display: np.ndarray) -> str:
    """A display-referred (H, W, 3) or (H, W) image in [0, 1] as a data: URI (PNG, inline: no network)."""
    import cv2

    img = display if display.dtype == np.uint8 else \
        np.clip(np.asarray(display, np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if img.ndim == 3:
        img = img[..., ::-1]
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise FrameWriteError("report image", "PNG encoding failed")
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def heat(score: np.ndarray) -> np.ndarray:
    """A score map (H, W) in [0, 1] as a display image (H, W, 3): dark blue (same) to yellow (changed)."""
    s = np.clip(score, 0, 1)[..., None]
    return np.clip(np.concatenate([1.6 * s, 1.2 * s ** 0.8, 0.35 * (1 - s) + 0.1 * s], -1), 0, 1).astype(np.float32)


def _boxed(display: np.ndarray, regions, scale: float) -> np.ndarray:
    """B with each region's box and number; a move's origin in blue with an arrow to where the prop is now."""
    import cv2

    img = np.ascontiguousarray(np.clip(display * 255.0 + 0.5, 0, 255).astype(np.uint8))

    def corners(box):
        x, y, w, h = box
        return (int(x * scale), int(y * scale)), (int((x + w) * scale), int((y + h) * scale))

    for r in regions:
        p0, p1 = corners(r.box)
        if r.origin is not None:
            o0, o1 = corners(r.origin)
            cv2.rectangle(img, o0, o1, (60, 140, 255), 1)
            cv2.arrowedLine(img, ((o0[0] + o1[0]) // 2, (o0[1] + o1[1]) // 2), ((p0[0] + p1[0]) // 2,
                            (p0[1] + p1[1]) // 2), (60, 140, 255), 1, tipLength=0.1)
        cv2.rectangle(img, p0, p1, (255, 50, 25), 2)
        cv2.putText(img, str(r.id), (p0[0] + 3, p0[1] + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 50), 1)
    return img


def _crop(display: np.ndarray, box, scale: float) -> np.ndarray:
    import cv2

    x, y, w, h = (int(round(v * scale)) for v in box)
    m = max(4, max(w, h) // 3)
    H, W = display.shape[:2]
    crop = display[max(0, y - m):min(H, y + h + m), max(0, x - m):min(W, x + w + m)]
    if crop.size == 0:
        crop = np.zeros((8, 8, 3), np.float32)
    f = THUMB / max(crop.shape[:2])
    return cv2.resize(crop, (max(1, round(crop.shape[1] * f)), max(1, round(crop.shape[0] * f))),
                      interpolation=cv2.INTER_LINEAR if f > 1 else cv2.INTER_AREA)


def _fraction(mask) -> float:
    return round(float(mask.mean()), 4) if mask is not None else 0.0


def comparison_dict(c, label: str, a_name: str, b_name: str, frame_a: int, frame_b: int) -> dict:
    """A comparison as plain data for hosts: frames, alignment, the colour fit's residual, what could not be
    compared and why, the regions (a move once, with its ``origin``)."""
    al = c.alignment
    occluded = c.occluded if c.occluded is not None else np.zeros_like(c.valid)
    outside = c.outside if c.outside is not None else ~c.valid & ~occluded
    return {
        "label": label, "a": {"path": a_name, "frame": frame_a}, "b": {"path": b_name, "frame": frame_b},
        "size_b": [c.size_b[1], c.size_b[0]],
        "alignment": {"matches": al.matches, "inliers": al.inliers, "homography_analysis": al.homography.tolist(),
                      "analysis_scale_a": al.scale_a, "analysis_scale_b": al.scale_b,
                      "shared_fraction": round(float(c.valid.mean()), 4), **al.stats},
        "normalisation": {"method": getattr(c.fit, "method", ""), "residual": float(getattr(c.fit, "residual", 0.0))},
        # Clipped in either shot: compared only where the clip cannot explain the difference (detect.censor).
        "clipped_fraction": round(float((c.clipped & c.valid).mean()), 4),
        # Not comparable (never flagged): beyond A's frame, or inside it but hidden from A (occluded in A,
        # disoccluded in B, a side only B faces). Fractions of B's frame.
        "not_comparable": {"fraction": _fraction(~c.valid), "outside_a": _fraction(outside),
                           "occluded": _fraction(occluded & ~outside)},
        "sharpness": {k: v for k, v in (c.sharpness or {}).items()},
        "person_detected": c.person,
        "regions": [r.to_dict() for r in c.regions],
        "seconds": {k: round(v, 4) for k, v in c.seconds.items()},
    }


def comparison_html(c, info: dict) -> str:
    """One comparison's section: side by side, aligned overlay, heat map, ranked regions with thumbnails."""
    s = c.alignment.scale_b
    overlay = 0.5 * c.aligned_a + 0.5 * c.display_b
    h, w = c.valid.shape
    occluded = c.occluded if c.occluded is not None else np.zeros((h, w), bool)
    outside = ~c.valid & ~occluded
    overlay[outside] = overlay[outside] * 0.35  # beyond A's frame: shaded, never reported
    stripes = ((np.arange(h)[:, None] + np.arange(w)[None, :]) % 8) < 3
    crossed = ((np.arange(h)[:, None] - np.arange(w)[None, :]) % 8) < 3
    hidden = occluded & (stripes | crossed)
    # Hidden from A (occluded, disoccluded, seen from another side): cross-hatched, never reported.
    overlay[hidden] = overlay[hidden] * 0.3 + np.array([0.35, 0.1, 0.35], np.float32) * 0.7
    clip = c.clipped & c.valid & stripes
    overlay[clip] = overlay[clip] * 0.35  # clipped in a shot: hatched, compared only as a bound
    esc = html.escape
    parts = [f"<section><h2>{esc(info['label'])}</h2>",
             f"<p>A: {esc(info['a']['path'])} frame {info['a']['frame']} &nbsp; B: {esc(info['b']['path'])} "
             f"frame {info['b']['frame']}. Alignment: {info['alignment']['inliers']} of "
             f"{info['alignment']['matches']} feature matches agree; {100 * info['alignment']['shared_fraction']:.0f} % "
             f"of B is seen by both shots and compared; not comparable, never flagged: "
             f"{100 * info['not_comparable']['outside_a']:.0f} % beyond A's frame (shaded), "
             f"{100 * info['not_comparable']['occluded']:.0f} % hidden from A by what stands in front or seen from "
             f"another side (cross-hatched in purple); model: {esc(str(info['alignment'].get('model', '')))}; "
             f"{100 * info['clipped_fraction']:.0f} % is clipped in one shot or both (hatched: not comparable "
             "beyond what the clip allows, so only a difference the clip cannot explain is flagged there). "
             "Person in B: "
             f"{ {True: 'yes', False: 'no', None: 'not looked for'}[c.person] }."
             + (f" {esc(info['sharpness']['note'])}." if info.get("sharpness", {}).get("note") else "") + "</p>",
             "<div class=row>",
             f"<figure><img src='{png_uri(c.display_a)}'><figcaption>A (reference), as shot</figcaption></figure>",
             f"<figure><img src='{png_uri(_boxed(c.display_b, c.regions, s))}'><figcaption>B, regions flagged (a move "
             "from its origin, in blue)</figcaption></figure>",
             "</div><div class=row>",
             f"<figure><img src='{png_uri(overlay)}'><figcaption>overlay: A aligned and relit to B, 50/50 with B; "
             "shaded: beyond A's frame; purple cross-hatch: hidden from A; hatched: clipped</figcaption></figure>",
             f"<figure><img src='{png_uri(heat(c.score))}'><figcaption>difference heat map</figcaption></figure>",
             "</div>"]
    if not c.regions:
        parts.append("<p>No continuity differences flagged at this sensitivity.</p>")
    else:
        parts.append("<table><tr><th>#</th><th>A (aligned)</th><th>B</th><th>score</th><th>category</th>"
                     "<th>on</th><th>box (x, y, w, h)</th></tr>")
        for r in c.regions:
            pair = f" from ({', '.join(map(str, r.origin))})" if r.origin is not None else ""
            parts.append(f"<tr><td>{r.id}</td><td><img src='{png_uri(_crop(c.aligned_a, r.box, s))}'></td>"
                         f"<td><img src='{png_uri(_crop(c.display_b, r.box, s))}'></td><td>{r.score:.2f}</td>"
                         f"<td>{esc(r.category)}{pair}</td><td>{esc(r.on)}</td><td>{', '.join(map(str, r.box))}</td></tr>")
        parts.append("</table>")
    parts.append("</section>")
    return "\n".join(parts)


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;background:#1b1b1b;color:#ddd;margin:2em}} .row{{display:flex;gap:1em;flex-wrap:wrap}}
figure{{margin:0}} figure img{{max-width:46vw}} table{{border-collapse:collapse}} td,th{{border:1px solid #444;padding:4px}}
h2{{border-top:1px solid #555;padding-top:1em}} .missing{{color:#f96}}</style></head>
<body><h1>{title}</h1><p>Matchcut flags; the artist judges. Regions are ranked by strength and size.</p>
{body}</body></html>
"""


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` by a temporary beside it, renamed over it (FrameWriteError names the path)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise FrameWriteError(str(path), exc.strerror or str(exc)) from None


#: The summary's words for why a pair of successive clips was not compared (tools.continuity's kinds).
NOT_COMPARED = {"offline": "media offline", "generated": "generated", "apart": "parted by a gap",
                "alignment": "alignment failed", "unreadable": "unreadable"}


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def timeline_summary(plan, compared: int, not_compared: dict[str, int]) -> dict:
    """The counts of a timeline run (every list in the report has its count here) and them as one line."""
    edit = plan.edit
    gaps = edit.gaps
    counts = {
        "clips": len(edit.clips), "clips_in_file": edit.clip_count, "hidden": len(edit.hidden),
        "from_nested": sum(1 for c in edit.clips if c.inside), "video_tracks": len(edit.tracks),
        "pairs": len(plan.pairs), "cuts": len(plan.cuts), "compared": compared,
        "not_compared": sum(not_compared.values()), "not_compared_by_reason": dict(not_compared),
        "gaps": len(gaps), "holes": sum(1 for g in gaps if g.hole), "offline_sources": len(plan.offline),
        "offline_clips": sum(len(g.shots) for g in plan.offline), "generated": len(plan.generated),
    }
    c = counts
    text = _n(c["clips"], "clip") + f" on {_n(c['video_tracks'], 'video track')}"
    if c["from_nested"]:
        text += f" ({c['from_nested']} from nested stacks or tracks, flattened)"
    if c["hidden"]:
        text += f", {c['hidden']} more not shown"
    why = ", ".join(f"{n} {NOT_COMPARED.get(k, k)}" for k, n in not_compared.items() if n)
    text += (f"; {_n(c['pairs'], 'pair')} of successive clips: {c['compared']} compared, {c['not_compared']} not "
             f"compared" + (f" ({why})" if why else ""))
    text += f"; {_n(c['gaps'], 'gap')}" + (f" ({c['holes']} with nothing on any video track)" if c["gaps"] else "")
    text += (f"; {_n(c['offline_sources'], 'offline source')}" + (f" used by {_n(c['offline_clips'], 'clip')}"
             if c["offline_sources"] else "") + f"; {_n(c['generated'], 'generated clip')}")
    return {**counts, "text": text}


def timeline_dict(plan, summary: dict) -> dict:
    """What the timeline holds as plain data: tracks, clips, gaps, generated and hidden clips, path map notes."""
    edit = plan.edit
    gap_dicts = [{"track": g.track, "record": list(g.record), "record_timecode": edit.timecode(g.record[0]),
                  "frames": g.frames, "why": g.why, "hole": g.hole, "covered_by": list(g.covered_by)}
                 for g in edit.gaps]
    return {
        "path": str(edit.path), "name": edit.name, "rate": edit.rate, "start_timecode": edit.timecode(0),
        "walk": list(edit.notes), "summary": summary,
        "tracks": [{"name": t.name, "clips": sum(1 for i in t.items if i.__class__.__name__ == "Clip"),
                    "gaps": sum(1 for i in t.items if i.__class__.__name__ == "Gap")} for t in edit.tracks],
        "clips": [c.to_dict(edit) for c in edit.clips],
        "gaps": gap_dicts,
        "generated": [s.clip.to_dict(edit) for s in plan.generated],
        "hidden": [{"name": h.name, "track": h.track, "inside": list(h.inside), "why": h.why} for h in edit.hidden],
        "warnings": list(edit.warnings),
    }


def _offline_html(missing: list[dict]) -> str:
    esc = html.escape
    items = []
    for m in missing:
        head = f"{esc(m['path'])} ({esc(m['reason'])})" if m["path"] else f"{esc(m['clip'])}: {esc(m['reason'])}"
        clips = m.get("clips") or []
        if clips:
            used = ", ".join(
                f"{esc(c['name'])}" + (f" (reel {esc(c['reel'])})" if c.get("reel") else "")
                + (f" at {esc(c['track'])} {esc(c.get('record_timecode', ''))}" if c.get("track") else "")
                for c in clips[:50]) + (f" … and {len(clips) - 50} more" if len(clips) > 50 else "")
            head += f"<br>used by {len(clips)} clip{'s' if len(clips) != 1 else ''}: {used}"
        if m.get("mapped_by"):
            head += f"<br>written {esc(m['written'])}, mapped by {esc(m['mapped_by'])}"
        items.append(f"<li class=missing>{head}</li>")
    return "<h2 class=missing>Offline media</h2><ul>" + "".join(items) + "</ul>"


def _timeline_html(t: dict) -> str:
    esc = html.escape
    parts = [f"<h2>Timeline</h2><p>{esc(t['summary']['text'])}.</p>",
             f"<p>Read {esc(t['path'])} at {t['rate']:g} fps from {esc(t['start_timecode'])}: "
             f"{esc('; '.join(t['walk']))}.</p>"]
    if t["warnings"]:
        parts.append("<ul>" + "".join(f"<li class=missing>{esc(w)}</li>" for w in t["warnings"]) + "</ul>")
    if t["gaps"]:
        parts.append("<h3>Gaps</h3><ul>" + "".join(
            f"<li>{esc(g['track'])} {esc(g['record_timecode'])}: {esc(g['why'])}, {g['frames']} frame(s); "
            + (f"seen there: {esc(', '.join(g['covered_by']))}" if g["covered_by"] else
               "nothing on any video track (a hole)") + "</li>" for g in t["gaps"]) + "</ul>")
    if t["generated"]:
        parts.append("<h3>Generated, nothing to compare</h3><ul>" + "".join(
            f"<li>{esc(c['name'])} ({esc(c['generated'])}) at {esc(c['track'])} {esc(c['record_timecode'])}</li>"
            for c in t["generated"]) + "</ul>")
    if t["hidden"]:
        parts.append("<h3>Clips the edit does not show</h3><ul>" + "".join(
            f"<li>{esc(h['name'])}" + (f" in {esc(' / '.join(h['inside']))}" if h["inside"] else "")
            + f" ({esc(h['track'])}): {esc(h['why'])}</li>" for h in t["hidden"]) + "</ul>")
    return "\n".join(parts)


def write_report(folder: str | os.PathLike, title: str, sections: list[tuple[object, dict]], *,
                 json_path: str | os.PathLike | None = None, missing: list[dict] | None = None,
                 skipped: list[dict] | None = None, timeline: dict | None = None) -> tuple[Path, Path]:
    """Write ``index.html`` into ``folder`` and the JSON (``json_path`` or ``folder/continuity.json``).

    ``sections``: (Comparison, comparison_dict) per compared cut. ``missing``: offline media, one entry per
    file ({"clip" (the first), "path", "reason", "clips"}); ``skipped``: successive clips not compared
    ({"label", "reason"}); ``timeline``: ``timeline_dict`` for a timeline run. Both written atomically.
    """
    folder = Path(folder)
    body = []
    if timeline:
        body.append(_timeline_html(timeline))
    if missing:
        body.append(_offline_html(missing))
    if skipped:
        body.append("<h2 class=missing>Not compared</h2><ul>" + "".join(
            f"<li class=missing>{html.escape(s['label'])}: {html.escape(s['reason'])}</li>" for s in skipped) + "</ul>")
    body += [comparison_html(c, info) for c, info in sections]
    page = folder / "index.html"
    write_text_atomically(page, PAGE.format(title=html.escape(title), body="\n".join(body)))
    data = {"matchcut_continuity": 1, "title": title, "comparisons": [info for _, info in sections],
            "offline": missing or [], "skipped": skipped or []}
    if timeline:
        data["summary"], data["timeline"] = timeline["summary"], timeline
    jpath = Path(json_path) if json_path else folder / "continuity.json"
    write_text_atomically(jpath, json.dumps(data, indent=2))
    return page, jpath
