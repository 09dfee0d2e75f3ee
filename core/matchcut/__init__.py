"""Matchcut: AI shot-correction tools for compositors and colorists (host-agnostic core).

Importing this package stays light: OpenImageIO, OpenColorIO, onnxruntime and PyTorch are imported
only by the modules that use them, when they are used.
"""

__version__ = "0.1.0"

from matchcut.errors import MatchcutError  # noqa: E402  (cheap: standard library only)

__all__ = ["__version__", "MatchcutError"]
