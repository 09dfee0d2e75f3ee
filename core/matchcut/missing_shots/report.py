"""The coverage report: one offline HTML page (images inline, no network) and the same content as JSON.

For each hole: what it is and why, the outgoing shot's last frame and the incoming shot's first, then each
proposal best first with its first, middle and last frames, its score in words and its reason; then the options
that do not apply and why.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from matchcut.continuity.report import png_uri, write_text_atomically

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;background:#1b1b1b;color:#ddd;margin:2em}} .row{{display:flex;gap:.6em;
flex-wrap:wrap;align-items:flex-start}} figure{{margin:0}} figure img{{height:120px}}
figcaption{{font-size:80%;color:#aaa}}
h2{{border-top:1px solid #555;padding-top:1em}} .proposal{{border-left:4px solid #666;padding-left:.8em;margin:1em 0}}
.best{{border-color:#4c4}} .synthetic{{color:#fc6}} .refused{{color:#f96}} .score{{font-weight:bold}}</style></head>
<body><h1>{title}</h1><p>Matchcut proposes; the editor picks one, or none. Every proposal is built from the
production's own frames; frames marked <span class="synthetic">synthetic</span> were made (in-betweens,
super-resolution) and are flagged in the hosts.</p>
{body}</body></html>
"""


def _figure(image, caption: str) -> str:
    if image is None:
        return f"<figure><figcaption>{html.escape(caption)}: no picture</figcaption></figure>"
    return f"<figure><img src='{png_uri(image)}' alt='{html.escape(caption)}'><figcaption>{html.escape(caption)}" \
           "</figcaption></figure>"


def _hole_html(hole: dict, pictures: dict) -> str:
    parts = [f"<h2 id='hole{hole['index']}'>Hole {hole['index']}: {html.escape(hole['kind'])}, {hole['frames']} "
             f"frame(s) "
             f"on {html.escape(hole['track'])} at {html.escape(hole['record_timecode'])}</h2>",
             f"<p>{html.escape(hole['why'])}</p>"]
    neighbours = pictures.get(hole["index"], {})
    names = neighbours.get("names", {})
    row = []
    if "outgoing" in neighbours:
        row.append(_figure(neighbours["outgoing"], f"outgoing '{names.get('outgoing', hole['before'])}', its last "
                           "frame before the hole"))
    if "incoming" in neighbours:
        row.append(_figure(neighbours["incoming"], f"incoming '{names.get('incoming', hole['after'])}', its first "
                           "frame after the hole"))
    if row:
        parts.append("<div class='row'>" + "".join(row) + "</div>")
    gives = [f"'{s['clip']}' has {s['handles']} frame(s) {'after' if w == 'outgoing' else 'before'} it "
             f"({s['handles_end'].rsplit(' (', 1)[-1].rstrip(')')})" if s["handles_end"] else
             f"'{s['clip']}' has the {s['handles']} frame(s) the hole needs {'after' if w == 'outgoing' else 'before'} "
             "it" for w, s in hole.get("sides", {}).items()]
    if gives:
        parts.append(f"<p>Handles: {html.escape('; '.join(gives))}.</p>")
    for rank, p in enumerate(hole["proposals"]):
        thumbs = pictures.get(p["id"], {})
        synthetic = (f" <span class='synthetic'>{p['synthetic_frames']} synthetic frame(s)</span>"
                     if p["synthetic_frames"] else " real frames only")
        parts.append(
            f"<div class='proposal{' best' if rank == 0 else ''}' id='{html.escape(p['id'])}'>"
            f"<h3>{rank + 1}. {html.escape(p['label'])}{' (best, enabled)' if rank == 0 else ''}</h3>"
            f"<p class='score'>{html.escape(p['score_text'])}</p><p>{html.escape(p['reason'])};{synthetic}</p>"
            "<div class='row'>" + "".join(_figure(thumbs.get(k), f"{k} frame") for k in ("first", "middle", "last"))
            + "</div>" + (f"<p>media: {html.escape(p['rendered']['pattern'])}</p>" if p.get("rendered") else "")
            + "</div>")
    if not hole["proposals"]:
        parts.append("<p class='refused'>No proposal: nothing the production has covers this hole.</p>")
    if hole["not_applicable"]:
        parts.append("<p>Options that do not apply:</p><ul>" + "".join(
            f"<li class='refused'>{html.escape(r['kind'])}: {html.escape(r['why'])}</li>"
            for r in hole["not_applicable"]) + "</ul>")
    return "\n".join(parts)


def write_report(folder: str | os.PathLike, title: str, data: dict, pictures: dict, *,
                 json_path: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Write ``folder``/index.html and coverage.json (or ``json_path``); returns both paths. ``data``: the
    report's JSON (``holes``, ``summary``, ...); ``pictures``: hole index -> {"outgoing", "incoming"} and proposal
    id -> {"first", "middle", "last"} small display-sRGB images."""
    folder = Path(folder)
    body = [f"<p>{html.escape(data['summary'])}</p>"]
    if data.get("new_timeline"):
        body.append(f"<p>New timeline: {html.escape(data['new_timeline'])} (the original is untouched).</p>")
    for warning in data.get("warnings", []):
        body.append(f"<p class='refused'>{html.escape(warning)}</p>")
    body += [_hole_html(h, pictures) for h in data["holes"]]
    page = folder / "index.html"
    write_text_atomically(page, PAGE.format(title=html.escape(title), body="\n".join(body)))
    jpath = Path(json_path) if json_path else folder / "coverage.json"
    write_text_atomically(jpath, json.dumps(data, indent=2))
    return page, jpath
