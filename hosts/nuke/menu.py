# Matchcut menu.py: GUI only. Adds the Matchcut menu (Nodes toolbar and Nodes menu) with a node per worker tool.
try:
    import nuke
    import matchcut_nuke.host as _matchcut_host

    def _add(tool):
        return lambda: _matchcut_host.create_node(tool)

    _toolbar = nuke.menu("Nodes").addMenu("Matchcut")
    try:
        for _tool in _matchcut_host.knobs.tools_by_name(_matchcut_host.worker_json(["tools"])).values():
            _toolbar.addCommand(_tool.get("label") or _tool["name"], _add(_tool))
    except Exception as _exc:  # a missing worker must not break Nuke's start
        nuke.tprint("Matchcut: worker not available ({})".format(_exc))
    nuke.addBeforeRender(_matchcut_host.before_render)
except Exception:
    pass
