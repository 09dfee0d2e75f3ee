"""Plates in and out: sequence patterns, frame ranges, image files, movies and frame sources."""

from matchcut.frames.patterns import SequencePattern, detect_sequence, parse_pattern
from matchcut.frames.plates import Plate, read_metadata, read_plate, write_plate
from matchcut.frames.ranges import format_frames, parse_frames
from matchcut.frames.sources import FrameSource, open_source

__all__ = [
    "FrameSource",
    "Plate",
    "SequencePattern",
    "detect_sequence",
    "format_frames",
    "open_source",
    "parse_frames",
    "parse_pattern",
    "read_metadata",
    "read_plate",
    "write_plate",
]
