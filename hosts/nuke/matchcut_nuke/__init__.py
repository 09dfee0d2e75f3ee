"""Matchcut for Nuke: plain-Python job building, cache keys, knob specs, events and state (no `nuke` import)."""
