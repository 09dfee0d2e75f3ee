# Matchcut menu.py: GUI only. Adds the Matchcut menu (Nodes toolbar) with a node per tool the worker describes
# and "Refresh tools", and the GUI callbacks: knobChanged (controls, model choice, inputs) and updateUI (an
# upstream edit -> stale). Start-up never waits on the worker for more than a few seconds: the descriptions are
# cached per worker build, and a missing, hung or mismatched worker gives the menu with a one-line error.
try:
    import nuke
    import matchcut_nuke.host as _matchcut_host

    nuke.addKnobChanged(_matchcut_host.knob_changed, nodeClass="Group")
    nuke.addUpdateUI(_matchcut_host.update_ui, nodeClass="Group")
    _matchcut_host.build_menu()
except Exception as _exc:  # nothing here may break Nuke's start
    try:
        nuke.tprint("Matchcut: the menu could not be made ({})".format(_exc))
    except Exception:
        pass
