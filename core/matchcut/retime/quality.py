"""Moved to matchcut.testing (metrics.psnr; sequences.measure_quality). Only tests/tools still imports this name;
delete this file once test_tool_fill.py and test_tool_retime.py import matchcut.testing.metrics.psnr."""

from matchcut.testing.metrics import psnr

__all__ = ["psnr"]
