"""Matchcut for DaVinci Resolve: plain-Python timing, jobs, dialog specs, events and results (no Resolve import)."""
