# Matchcut init.py: runs on every Nuke start, render nodes included; it must never raise nor import anything
# heavy (matchcut_nuke is standard library only; the worker runs out of process). The folder is on NUKE_PATH,
# so `matchcut_nuke` is importable. Registered here, not in menu.py, because `nuke -x` on a farm never runs
# menu.py: onCreate brings loaded nodes up to this version, before-render processes stale nodes.
try:
    import nuke
    import matchcut_nuke.host as _matchcut_host

    nuke.addOnCreate(_matchcut_host.on_create, nodeClass="Group")
    nuke.addBeforeRender(_matchcut_host.before_render)
except Exception:
    pass
