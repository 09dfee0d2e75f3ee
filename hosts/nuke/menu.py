# Matchcut menu.py: GUI only. Adds the Matchcut menu (Nodes toolbar and Nodes menu) with a node per worker tool,
# and the GUI callbacks: knobChanged (controls, model choice, inputs) and updateUI (an upstream edit -> stale).
try:
    import nuke
    import matchcut_nuke.host as _matchcut_host
    from matchcut_nuke import descriptions as _matchcut_descriptions, knobs as _matchcut_knobs

    def _add(tool):
        return lambda: _matchcut_host.create_node(tool)

    nuke.addKnobChanged(_matchcut_host.knob_changed, nodeClass="Group")
    nuke.addUpdateUI(_matchcut_host.update_ui, nodeClass="Group")
    _toolbar = nuke.menu("Nodes").addMenu("Matchcut")
    try:
        _tools = _matchcut_knobs.tools_by_name(_matchcut_descriptions.ask_worker(["tools"]))
        for _name in sorted(_tools, key=lambda n: _matchcut_knobs.LABELS.get(n, n)):
            _toolbar.addCommand(_matchcut_knobs.LABELS.get(_name, _name), _add(_tools[_name]))
    except Exception as _exc:  # a missing worker must not break Nuke's start
        nuke.tprint("Matchcut: worker not available ({})".format(_exc))
except Exception:
    pass
