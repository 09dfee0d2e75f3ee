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


def in_section(section: str, before: str = "", titled: bool = True) -> Callable[[str, str], str]:
    """A placer for write_block: a page without the block gets it at the end of the markdown ``section`` (its
    heading line, e.g. "## Learn a fix"); a page without that section gets it as a new section before the heading
    ``before`` when the page has one, else at the page's end. ``titled``: False puts the block alone, without
    the heading, when the section is missing."""

    def place(text: str, block: str) -> str:
        if section in text:
            head, rest = text.split(section, 1)
            nxt = rest.find("\n## ")
            body, tail = (rest, "") if nxt < 0 else (rest[:nxt], rest[nxt:])
            return head + section + body.rstrip() + "\n\n" + block + "\n" + tail
        new = section + "\n\n" + block if titled else block
        if before and before in text:
            head, tail = text.split(before, 1)
            return head + new + "\n\n" + before + tail
        return append_block(text, new)

    return place


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
