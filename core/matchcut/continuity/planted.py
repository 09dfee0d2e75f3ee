"""Moved to matchcut.testing.planted. Only tests/tools/test_tool_continuity.py and tests/hosts/nuke still import
this name; delete this file once they import matchcut.testing.planted."""

from matchcut.testing.planted import make_pair

__all__ = ["make_pair"]
