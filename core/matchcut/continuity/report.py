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


def _png(display: np.ndarray) -> str:
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


def _boxed(display: np.ndarray, boxes, scale: float) -> np.ndarray:
    import cv2

    img = np.ascontiguousarray(np.clip(display * 255.0 + 0.5, 0, 255).astype(np.uint8))
    for n, (x, y, w, h) in boxes:
        p0 = (int(x * scale), int(y * scale))
        p1 = (int((x + w) * scale), int((y + h) * scale))
        cv2.rectangle(img, p0, p1, (255, 50, 25), 2)
        cv2.putText(img, str(n), (p0[0] + 3, p0[1] + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 50), 1)
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


def comparison_dict(c, label: str, a_name: str, b_name: str, frame_a: int, frame_b: int) -> dict:
    """A comparison as plain data for hosts: frames, alignment, the colour fit's residual, the regions."""
    al = c.alignment
    return {
        "label": label, "a": {"path": a_name, "frame": frame_a}, "b": {"path": b_name, "frame": frame_b},
        "size_b": [c.size_b[1], c.size_b[0]],
        "alignment": {"matches": al.matches, "inliers": al.inliers, "homography_analysis": al.homography.tolist(),
                      "analysis_scale_a": al.scale_a, "analysis_scale_b": al.scale_b,
                      "shared_fraction": round(float(c.valid.mean()), 4), **al.stats},
        "normalisation": {"method": getattr(c.fit, "method", ""), "residual": float(getattr(c.fit, "residual", 0.0))},
        # Clipped in either shot: compared only where the clip cannot explain the difference (detect.censor).
        "clipped_fraction": round(float((c.clipped & c.valid).mean()), 4),
        "person_detected": c.person,
        "regions": [r.to_dict() for r in c.regions],
        "seconds": {k: round(v, 4) for k, v in c.seconds.items()},
    }


def comparison_html(c, info: dict) -> str:
    """One comparison's section: side by side, aligned overlay, heat map, ranked regions with thumbnails."""
    s = c.alignment.scale_b
    boxes = [(r.id, r.box) for r in c.regions]
    overlay = 0.5 * c.aligned_a + 0.5 * c.display_b
    outside = ~c.valid
    overlay[outside] = overlay[outside] * 0.35  # what A cannot see: shaded, never reported
    h, w = c.valid.shape
    stripes = ((np.arange(h)[:, None] + np.arange(w)[None, :]) % 8) < 3
    clip = c.clipped & c.valid & stripes
    overlay[clip] = overlay[clip] * 0.35  # clipped in a shot: hatched, compared only as a bound
    esc = html.escape
    parts = [f"<section><h2>{esc(info['label'])}</h2>",
             f"<p>A: {esc(info['a']['path'])} frame {info['a']['frame']} &nbsp; B: {esc(info['b']['path'])} "
             f"frame {info['b']['frame']}. Alignment: {info['alignment']['inliers']} of "
             f"{info['alignment']['matches']} feature matches agree; {100 * info['alignment']['shared_fraction']:.0f} % "
             f"of B is seen by both shots (the shaded rest is not compared); "
             f"{100 * info['clipped_fraction']:.0f} % is clipped in one shot or both (hatched: not comparable "
             "beyond what the clip allows, so only a difference the clip cannot explain is flagged there). "
             "Person in B: "
             f"{ {True: 'yes', False: 'no', None: 'not looked for'}[c.person] }.</p>",
             "<div class=row>",
             f"<figure><img src='{_png(c.display_a)}'><figcaption>A (reference), as shot</figcaption></figure>",
             f"<figure><img src='{_png(_boxed(c.display_b, boxes, s))}'><figcaption>B, regions flagged</figcaption></figure>",
             "</div><div class=row>",
             f"<figure><img src='{_png(overlay)}'><figcaption>overlay: A aligned and relit to B, 50/50 with B; "
             "shaded: not seen by A; hatched: clipped</figcaption></figure>",
             f"<figure><img src='{_png(heat(c.score))}'><figcaption>difference heat map</figcaption></figure>",
             "</div>"]
    if not c.regions:
        parts.append("<p>No continuity differences flagged at this sensitivity.</p>")
    else:
        parts.append("<table><tr><th>#</th><th>A (aligned)</th><th>B</th><th>score</th><th>category</th>"
                     "<th>on</th><th>box (x, y, w, h)</th></tr>")
        for r in c.regions:
            pair = f" (with #{r.pair})" if r.pair is not None else ""
            parts.append(f"<tr><td>{r.id}</td><td><img src='{_png(_crop(c.aligned_a, r.box, s))}'></td>"
                         f"<td><img src='{_png(_crop(c.display_b, r.box, s))}'></td><td>{r.score:.2f}</td>"
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


def _atomic_write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise FrameWriteError(str(path), exc.strerror or str(exc)) from None


def write_report(folder: str | os.PathLike, title: str, sections: list[tuple[object, dict]], *,
                 json_path: str | os.PathLike | None = None, missing: list[dict] | None = None,
                 skipped: list[dict] | None = None) -> tuple[Path, Path]:
    """Write ``index.html`` into ``folder`` and the JSON (``json_path`` or ``folder/continuity.json``).

    ``sections``: (Comparison, comparison_dict) per compared cut. ``missing``: offline media
    ({"clip", "path", "reason"}); ``skipped``: cuts not compared ({"label", "reason"}). Both written atomically.
    """
    folder = Path(folder)
    body = []
    if missing:
        body.append("<h2 class=missing>Offline media</h2><ul>" + "".join(
            f"<li class=missing>{html.escape(m['clip'])}: "
            + (f"{html.escape(m['path'])} ({html.escape(m['reason'])})" if m['path'] else html.escape(m['reason']))
            + "</li>"
            for m in missing) + "</ul>")
    if skipped:
        body.append("<h2 class=missing>Cuts not compared</h2><ul>" + "".join(
            f"<li class=missing>{html.escape(s['label'])}: {html.escape(s['reason'])}</li>" for s in skipped) + "</ul>")
    body += [comparison_html(c, info) for c, info in sections]
    page = folder / "index.html"
    _atomic_write(page, PAGE.format(title=html.escape(title), body="\n".join(body)))
    data = {"matchcut_continuity": 1, "title": title, "comparisons": [info for _, info in sections],
            "offline": missing or [], "skipped": skipped or []}
    jpath = Path(json_path) if json_path else folder / "continuity.json"
    _atomic_write(jpath, json.dumps(data, indent=2))
    return page, jpath
