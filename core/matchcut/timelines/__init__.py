"""Timelines: one reader of edits (.otio, EDL, FCP XML) for every tool that stands on one (continuity, coverage).

``read_edit(path, rate=, paths=)`` returns an ``Edit``: each video track's clips (reel, source timecode, record
range, speed, the media located on this machine) and gaps in record order, the joins between clips, and the
clips the edit does not show. ``files`` reads the file (errors that say what to do), ``media`` finds a clip's
frames, ``edit`` walks the tracks. Path mapping rules are ``matchcut.paths``.
"""

from matchcut.timelines.edit import Clip, Edit, Gap, Hidden, Join, Track, read_edit, timecode
from matchcut.timelines.files import open_timeline
from matchcut.timelines.media import Media

__all__ = ["Clip", "Edit", "Gap", "Hidden", "Join", "Media", "Track", "open_timeline", "read_edit", "timecode"]
