"""The generated blocks of the docs' markdown pages (docs/benchmarks.md, docs/quality.md): a benchmark's markdown
between its begin and end markers replaces what was there, so the hand-written text around it survives a re-run."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def block_of(text: str, begin: str, end: str) -> str:
    """What lies between the markers in ``text`` ("" when it has none)."""
    return text.split(begin, 1)[1].split(end, 1)[0] if begin in text and end in text else ""


def append_block(text: str, block: str) -> str:
    """Where a block goes in a page that has none yet: at its end."""
    return text.rstrip() + "\n\n" + block + "\n"


def write_block(path: Path, begin: str, end: str, block: str,
                place: Callable[[str, str], str] = append_block, *, new_page: str = "") -> None:
    """Put ``block`` (its markers included) in place of the text from ``begin`` to ``end`` in the page at
    ``path``, or where ``place(text, block)`` puts it when the page has no such block; the page is written
    atomically (a temporary beside it, then renamed). A missing page starts as ``new_page``."""
    text = path.read_text(encoding="utf-8") if path.exists() else new_page
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = place(text, block)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
