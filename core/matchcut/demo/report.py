"""A self-contained HTML report (works offline: no scripts, fonts or requests outside its folder)."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;background:#fafafa}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}figcaption{font-size:.9em;color:#555}
img{max-width:560px;border:1px solid #bbb;image-rendering:auto}
pre{background:#fff;border:1px solid #ddd;padding:.8em;overflow:auto;font-size:12px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
"""


@dataclass
class Section:
    title: str
    parts: list[str] = field(default_factory=list)


class Report:
    """Collects sections of text, tables, figures and logs, then writes `index.html` in `folder`."""

    def __init__(self, folder: Path, title: str):
        self.folder = Path(folder)
        self.title = title
        self.sections: list[Section] = []
        (self.folder / "img").mkdir(parents=True, exist_ok=True)

    def section(self, title: str) -> Section:
        self.sections.append(Section(title))
        return self.sections[-1]

    def text(self, sec: Section, text: str) -> None:
        sec.parts.append(f"<p>{html.escape(text)}</p>")

    def pre(self, sec: Section, text: str) -> None:
        sec.parts.append(f"<pre>{html.escape(text)}</pre>")

    def table(self, sec: Section, header: list[str], rows: list[list[object]]) -> None:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
        sec.parts.append(f"<table><tr>{head}</tr>{body}</table>")

    def figure(self, sec: Section, name: str, display_rgb: np.ndarray, caption: str) -> Path:
        """Save a display-referred (H, W, 3) float image in [0, 1] as PNG under img/ and show it."""
        from matchcut.frames import write_plate

        path = self.folder / "img" / f"{name}.png"
        pixels = np.ascontiguousarray(np.clip(display_rgb[..., :3], 0.0, 1.0), dtype=np.float32)
        write_plate(path, pixels, channels=("R", "G", "B"), kind="pass")
        rel = os.path.relpath(path, self.folder)
        sec.parts.append(
            f'<figure><img src="{html.escape(rel)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
        return path

    def write(self) -> Path:
        body = "".join(f"<h2>{html.escape(s.title)}</h2>{''.join(s.parts)}" for s in self.sections)
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(self.title)}</h1>{body}</body></html>"
        )
        out = self.folder / "index.html"
        tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out)
        return out
