"""The tool registry: tool names -> their classes, imported only when a job asks for them."""

from __future__ import annotations

import importlib

from matchcut.errors import ToolNotFoundError
from matchcut.tools.base import Tool, WorkItem

#: Tool name -> "module:Class"; later tools (match, relight, matte, fill, retime, continuity) add lines here.
TOOLS: dict[str, str] = {
    "apply": "matchcut.tools.apply:ApplyTool",
    "relight": "matchcut.tools.relight:RelightTool",
    "matte": "matchcut.tools.matte:MatteTool",
    "continuity": "matchcut.tools.continuity:ContinuityTool",
    "retime": "matchcut.tools.retime:RetimeTool",
    "fill": "matchcut.tools.fill:FillTool",
    "match": "matchcut.tools.match:MatchTool",
    "learn": "matchcut.tools.learn:LearnTool",
    "coverage": "matchcut.tools.coverage:CoverageTool",
}


def get_tool(name: str) -> Tool:
    """A fresh instance of the tool called ``name``; ToolNotFoundError lists the tools there are."""
    target = TOOLS.get(name)
    if target is None:
        raise ToolNotFoundError(name, TOOLS)
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)()


__all__ = ["TOOLS", "Tool", "WorkItem", "get_tool"]
