# Matchcut init.py: runs on every Nuke start, render nodes included; it must never raise nor import anything
# heavy. The folder is on NUKE_PATH, so `matchcut_nuke` is importable; the GUI menu lives in menu.py.
try:
    import os

    os.environ.setdefault("MATCHCUT_NUKE_LOADED", "1")
except Exception:
    pass
