# Matchcut: Matchcut Tools. DaVinci Resolve Studio, Workspace > Scripts (every page). The template of every
# Matchcut menu script: `matchcut hosts install resolve` writes one per tool the worker describes, named by its
# label, with the tool and the two paths below filled in (as it is, it lists every tool); runs on Resolve's
# Python 3.9+ (ResolvePython 3.14 on 21.1+).
import os
import sys

TOOL = None  # a tool of `matchcut tools --json`; None opens a picker of every tool
MATCHCUT_RESOLVE_LIB = ""  # the folder that holds matchcut_resolve (written by the installer)
MATCHCUT_WORKER = ""  # the worker's matchcut executable (written by the installer)

_lib = os.environ.get("MATCHCUT_RESOLVE_LIB") or MATCHCUT_RESOLVE_LIB
if not _lib and globals().get("__file__"):  # this template run from a checkout: hosts/resolve/templates/
    _lib = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
if _lib and _lib not in sys.path:
    sys.path.insert(0, _lib)
if MATCHCUT_WORKER and not os.environ.get("MATCHCUT_WORKER"):
    os.environ["MATCHCUT_WORKER"] = MATCHCUT_WORKER

from matchcut_resolve import dialog  # noqa: E402

dialog.main(globals().get("resolve"), globals().get("fusion"), globals().get("bmd"), TOOL)
