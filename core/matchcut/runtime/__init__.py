"""onnxruntime sessions (provider choice from a probe of what really loads, loud CPU fallback) and tiled inference.

None of these modules imports onnxruntime or onnx at import time; they do inside the functions that run.
"""

from matchcut.runtime.backends import DeviceOptions
from matchcut.runtime.binding import BoundRunner
from matchcut.runtime.budget import TilePlan, plan_for, run_budgeted
from matchcut.runtime.probe import ProbeResult, usable_providers
from matchcut.runtime.session import (
    Session,
    create_model_session,
    create_session,
    engine_cache_key,
    probe_providers,
)
from matchcut.runtime.tiling import Tile, plan_tiles, run_tiled

__all__ = ["BoundRunner", "DeviceOptions", "ProbeResult", "Session", "Tile", "TilePlan", "create_model_session",
           "create_session", "engine_cache_key", "plan_for", "plan_tiles", "probe_providers", "run_budgeted",
           "run_tiled", "usable_providers"]
