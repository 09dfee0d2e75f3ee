"""Continuity check: align two shots, find what changed between them, report it, patch it from the reference."""
