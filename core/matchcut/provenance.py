"""What every output image records about how it was made, and the hash a resumed job compares.

The attributes go into the image header (EXR string attributes; PNG/TIFF text metadata):
``matchcut/version``, ``matchcut/tool``, ``matchcut/model`` (``id@sha256``), ``matchcut/params`` (JSON),
``matchcut/source`` (the input files of this frame) and ``matchcut/hash``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

PREFIX = "matchcut/"
HASH_KEY = PREFIX + "hash"


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class Provenance:
    """How an output was made: the tool, the model, its parameters and the frame's sources.

    ``hash`` covers everything that decides the output's pixels (tool, Matchcut version, model sha256,
    parameters, source files and frame numbers), so a resumed job can tell a finished frame from a stale one.
    """

    tool: str
    params: dict[str, Any] = field(default_factory=dict)
    model_id: str | None = None
    model_sha256: str | None = None
    sources: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    def with_sources(self, sources: list[str] | tuple[str, ...], **extra: str) -> Provenance:
        """The same provenance for one frame: its source files and any per-frame notes (e.g. ``rebuilt``)."""
        merged = {**self.extra, **{k: str(v) for k, v in extra.items()}}
        return Provenance(self.tool, self.params, self.model_id, self.model_sha256, tuple(sources), merged)

    @property
    def hash(self) -> str:
        from matchcut import __version__

        payload = {
            "version": __version__,
            "tool": self.tool,
            "model": [self.model_id, self.model_sha256],
            "params": self.params,
            "sources": list(self.sources),
            "extra": self.extra,
        }
        return hashlib.sha256(_canonical(payload).encode()).hexdigest()

    def attributes(self) -> dict[str, str]:
        """Header attributes, all strings."""
        from matchcut import __version__

        attrs = {
            PREFIX + "version": __version__,
            PREFIX + "tool": self.tool,
            PREFIX + "model": f"{self.model_id}@{self.model_sha256}" if self.model_id else "none",
            PREFIX + "params": _canonical(self.params),
            PREFIX + "source": _canonical(list(self.sources)),
            HASH_KEY: self.hash,
        }
        for key, value in self.extra.items():
            attrs[PREFIX + key] = str(value)
        return attrs


def read_hash(metadata: dict[str, Any]) -> str | None:
    """The provenance hash recorded in an image's metadata, or None."""
    value = metadata.get(HASH_KEY)
    return str(value) if value else None
