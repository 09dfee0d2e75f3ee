"""A strict fake of DaVinci Resolve's scripting object model and Fusion's UIManager, for the adapter's tests.

Follows the scripting README (copies dated 2020, Oct 2024, 2025 and 24 Jul 2026; hosts.md section 2.4):
Resolve, ProjectManager, Project, MediaStorage, MediaPool, Folder, MediaPoolItem, Timeline, TimelineItem; and
the UIManager/UIDispatcher calls of public Resolve UI scripts (AddWindow, GetItems, On.<ID>.<Event>, RunLoop,
ExitLoop, ui.Timer). Only what the README lists exists (methods newer than the timeline's ``version`` are
absent): a misspelt method is an AttributeError, a wrong argument shape a TypeError or ValueError.

Behaviour follows the public evidence in docs/hosts/resolve.md ("Verified against public sources"): record
frames absolute; GetSourceStartFrame 0-based in the media's rate, the highest frame of a reversed item;
GetSourceEndFrame exclusive at matching rates and one less at mixed rates (below the start when reversed);
GetSourceStart/EndTime from the media's timecode origin; offsets in timeline frames at the item's speed;
AppendToTimeline's endFrame exclusive and recordFrame absolute; marker frameId and GetMarkInOut relative to
the timeline's start, Out inclusive; render MarkIn/MarkOut absolute and inclusive; a UIManager timer's
Timeout delivered on the dispatcher's generic On.Timeout with ``who`` = the timer's ID. Rendering writes files
through a callback the test gives.
"""
from __future__ import annotations

import os
import re
from fractions import Fraction

MARKER_COLOURS = ("Blue", "Cyan", "Green", "Yellow", "Red", "Pink", "Purple", "Fuchsia", "Rose", "Lavender", "Sky",
                  "Mint", "Lemon", "Sand", "Cocoa", "Cream")
RENDER_KEYS = {"SelectAllFrames", "MarkIn", "MarkOut", "TargetDir", "CustomName", "UniqueFilenameStyle", "ExportVideo",
               "ExportAudio", "FormatWidth", "FormatHeight", "FrameRate", "PixelAspectRatio", "VideoQuality",
               "AudioCodec", "AudioBitDepth", "AudioSampleRate", "ColorSpaceTag", "GammaTag", "ExportAlpha",
               "EncodingProfile", "MultiPassEncode", "AlphaMode", "NetworkOptimization", "ClipStartFrame",
               "TimelineStartTimecode", "ReplaceExistingFilesInPlace", "ExportSubtitle", "SubtitleFormat",
               "UseFullExtents", "AddFrameHandles", "DataBurnIn"}
CLIP_INFO_KEYS = {"mediaPoolItem", "startFrame", "endFrame", "mediaType", "trackIndex", "recordFrame"}
IMPORT_KEYS = {"FilePath", "StartIndex", "EndIndex"}
CDL_KEYS = {"NodeIndex", "Slope", "Offset", "Power", "Saturation"}


def _int(value, what):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("{}: expected int, got {!r}".format(what, value))
    return value


def _str(value, what):
    if not isinstance(value, str):
        raise TypeError("{}: expected str, got {!r}".format(what, value))
    return value


class _Ids:
    n = 0

    @classmethod
    def next(cls):
        cls.n += 1
        return "id-{}".format(cls.n)


class Folder:
    def __init__(self, name):
        self._name, self._clips, self._subs, self._id = name, [], [], _Ids.next()

    def GetName(self): return self._name
    def GetClipList(self): return list(self._clips)
    def GetSubFolderList(self): return list(self._subs)
    def GetUniqueId(self): return self._id


#: File Path -> start timecode in frames (kept off the clip properties, which the adapter reads whole).
tc_origin = {}


class MediaPoolItem:
    def __init__(self, name, props):
        self._name, self._props, self._meta, self._id = name, dict(props), {}, _Ids.next()
        self.mattes = []

    def GetName(self): return self._name
    def GetMediaId(self): return self._id
    def GetUniqueId(self): return self._id

    def GetClipProperty(self, propertyName=None):
        if propertyName is None:
            return dict(self._props)
        return self._props.get(_str(propertyName, "GetClipProperty(propertyName)"), "")

    def SetClipProperty(self, propertyName, propertyValue):
        _str(propertyName, "SetClipProperty(propertyName)")
        _str(propertyValue, "SetClipProperty(propertyValue)")  # the README: "(string)"
        self._props[propertyName] = propertyValue
        return True

    def GetMetadata(self, metadataType=None):
        return dict(self._meta) if metadataType is None else self._meta.get(metadataType, "")

    def SetMetadata(self, *args):
        if len(args) == 1 and isinstance(args[0], dict):
            for k, v in args[0].items():
                self._meta[_str(k, "metadata key")] = _str(v, "metadata value")
            return True
        if len(args) == 2:
            self._meta[_str(args[0], "metadataType")] = _str(args[1], "metadataValue")
            return True
        raise TypeError("SetMetadata(metadataType, metadataValue) or SetMetadata({metadata})")


def media_item(path, fps="24", frames=None, start=None, name=None, start_tc_frames=0):
    """A media pool item as Resolve describes media: a sequence path in brackets, or a movie/raw file.
    ``start_tc_frames``: the media's start timecode as a frame count (a camera's time of day), the origin of
    GetSourceStartTime/GetSourceEndTime."""
    match = re.search(r"\[(\d+)-(\d+)\]", os.path.basename(path))
    props = {"File Path": path, "FPS": str(fps), "Type": "Video"}
    tc_origin[path] = int(start_tc_frames)
    if match:
        first, last = int(match.group(1)), int(match.group(2))
        props.update({"Frames": str(last - first + 1), "Start": str(first), "End": str(last)})
    else:
        props.update({"Frames": str(frames), "Start": str(start or 0), "End": str((start or 0) + frames - 1)})
    return MediaPoolItem(name or os.path.basename(path), props)


class TimelineItem:
    """An item on a track. ``source_start`` (0-based media frame), ``speed`` and the rates define every
    reading, as Resolve derives them."""

    def __init__(self, name, mpi, record_start, duration, source_start, timeline_fps, speed=1.0, clip_colour=""):
        self._name, self._mpi = name, mpi
        self._start, self._duration = int(record_start), int(duration)
        self._source_start, self._speed = source_start, Fraction(speed).limit_denominator(1000)
        self._tl_fps = Fraction(str(timeline_fps))
        self._takes, self._selected, self._cdl, self._colour = [], 0, {}, clip_colour
        self._enabled, self._markers = True, {}
        self._id = _Ids.next()
        self.track = None
        self.nodes = 3

    def _step(self):
        clip_fps = Fraction(str(self._mpi.GetClipProperty("FPS"))) if self._mpi else self._tl_fps
        return clip_fps / self._tl_fps * self._speed, clip_fps

    def GetName(self): return self._name
    def GetUniqueId(self): return self._id
    def GetMediaPoolItem(self): return self._mpi
    def GetStart(self, subframe_precision=False): return self._start
    def GetDuration(self, subframe_precision=False): return self._duration
    def GetEnd(self, subframe_precision=False): return self._start + self._duration
    def GetSourceStartFrame(self): return self._source_start

    def _mixed(self):
        return self._mpi is not None and Fraction(str(self._mpi.GetClipProperty("FPS"))) != self._tl_fps

    def GetSourceEndFrame(self):
        # Exclusive when the media's rate is the timeline's, one less when they differ (measured, 19.1.3.7).
        step, _ = self._step()
        end = int(self._source_start + self._duration * step)
        return end - 1 if self._mixed() and step > 0 else end

    def _tc_seconds(self, fps):
        return Fraction(tc_origin.get(self._mpi.GetClipProperty("File Path"), 0)) / fps if self._mpi else 0

    def GetSourceStartTime(self):
        _, fps = self._step()
        return float(self._source_start / fps + self._tc_seconds(fps))

    def GetSourceEndTime(self):
        step, fps = self._step()
        return float((self._source_start + self._duration * step) / fps + self._tc_seconds(fps))

    def GetLeftOffset(self, subframe_precision=False):
        # Timeline frames at the item's speed (position / speed). A reversed item can grow left over the
        # frames above its first (highest) frame: the fake's reading, nothing public says.
        step, _ = self._step()
        frames = int(self._mpi.GetClipProperty("Frames"))
        room = self._source_start if step > 0 else frames - 1 - self._source_start
        return int(room / abs(step))

    def GetRightOffset(self, subframe_precision=False):
        step, _ = self._step()
        frames = int(self._mpi.GetClipProperty("Frames"))
        room = frames - self._source_start if step > 0 else self._source_start + 1
        return int(room / abs(step)) - self._duration

    def GetProperty(self, propertyKey=None):
        # No speed key: GetProperty("Speed") answers None (measured, 19.1.3.7).
        props = {"Pan": 0.0, "Tilt": 0.0, "ZoomX": 1.0, "ZoomY": 1.0, "Opacity": 100.0, "RetimeProcess": 0}
        return dict(props) if propertyKey is None else props.get(_str(propertyKey, "GetProperty(propertyKey)"))

    def GetClipColor(self): return self._colour
    def GetTrackTypeAndIndex(self): return ["video", self.track]

    def SetClipEnabled(self, enabled):
        # "Sets clip enabled based on argument" (README); a disabled item is not seen in the viewer or a render
        if not isinstance(enabled, bool):
            raise TypeError("SetClipEnabled(Bool)")
        self._enabled = enabled
        return True

    def GetClipEnabled(self): return self._enabled

    def AddMarker(self, frameId, color, name, note, duration, customData=""):
        # An item's marker: frameId from the item's first frame (the fake's reading; the adapter uses frame 0,
        # where every reading agrees); one marker a frame, as on the timeline.
        if isinstance(frameId, bool) or not isinstance(frameId, (int, float)):
            raise TypeError("AddMarker frameId: a number")
        if color not in MARKER_COLOURS:
            raise ValueError("AddMarker color {!r}".format(color))
        for value, what in ((name, "name"), (note, "note"), (customData, "customData")):
            _str(value, "AddMarker " + what)
        _int(duration, "AddMarker duration")
        if frameId in self._markers or not 0 <= frameId < self._duration:
            return False
        self._markers[frameId] = {"color": color, "duration": duration, "note": note, "name": name,
                                  "customData": customData}
        return True

    def GetMarkers(self): return {float(k): dict(v) for k, v in self._markers.items()}

    def AddTake(self, mediaPoolItem, startFrame=None, endFrame=None):
        if not isinstance(mediaPoolItem, MediaPoolItem):
            raise TypeError("AddTake(mediaPoolItem, startFrame, endFrame): expected a MediaPoolItem")
        if startFrame is not None:
            _int(startFrame, "AddTake startFrame")
            _int(endFrame, "AddTake endFrame")
            frames = int(mediaPoolItem.GetClipProperty("Frames"))
            if not 0 <= startFrame < endFrame <= frames:
                return False
        if not self._takes:
            self._takes.append({"mediaPoolItem": self._mpi, "startFrame": self._source_start,
                                "endFrame": self.GetSourceEndFrame()})
            self._selected = 1
        self._takes.append({"mediaPoolItem": mediaPoolItem, "startFrame": startFrame, "endFrame": endFrame})
        return True

    def GetTakesCount(self): return len(self._takes)
    def GetSelectedTakeIndex(self): return self._selected

    def GetTakeByIndex(self, idx):
        return dict(self._takes[_int(idx, "GetTakeByIndex(idx)") - 1])

    def SelectTakeByIndex(self, idx):
        if not 1 <= _int(idx, "SelectTakeByIndex(idx)") <= len(self._takes):
            return False
        self._selected = idx
        return True

    def SetCDL(self, cdl):
        if not isinstance(cdl, dict) or set(cdl) != CDL_KEYS:
            raise ValueError("SetCDL({{NodeIndex, Slope, Offset, Power, Saturation}}), got {!r}".format(cdl))
        for key, value in cdl.items():
            _str(value, "SetCDL " + key)
        if not 1 <= int(cdl["NodeIndex"]) <= self.nodes:
            return False
        self._cdl = dict(cdl)
        return True


#: Timeline methods newer than the 2020 README, and the version whose README first lists them.
TIMELINE_SINCE = {"GetMarkInOut": (19, 1, 0), "SetMarkInOut": (19, 1, 0), "ClearMarkInOut": (19, 1, 0),
                  "GetSelectedClips": (21, 0, 4)}


class Timeline:
    def __init__(self, name, fps="24", start_frame=86400, version=(21, 0, 4)):
        self._name, self._fps, self._start = name, str(fps), int(start_frame)
        self._tracks = [[]]
        self._track_names = {}
        self._markers = {}
        self._marks = {}
        self.selected = []
        self.version = tuple(version)
        self.playhead_item = None
        self._id = _Ids.next()

    def __getattribute__(self, name):
        since = TIMELINE_SINCE.get(name)
        if since is not None and object.__getattribute__(self, "version") < since:
            raise AttributeError("Timeline.{} is new in Resolve {}".format(name, ".".join(map(str, since))))
        return object.__getattribute__(self, name)

    def add_item(self, track, item):
        while len(self._tracks) < track:
            self._tracks.append([])
        item.track = track
        self._tracks[track - 1].append(item)
        return item

    def GetName(self): return self._name
    def GetUniqueId(self): return self._id
    def GetStartFrame(self): return self._start

    def GetEndFrame(self):
        ends = [i.GetEnd() for t in self._tracks for i in t]
        return max(ends) if ends else self._start

    def GetSetting(self, settingName=None):
        return {"timelineFrameRate": self._fps}.get(settingName, "")

    def GetTrackCount(self, trackType):
        if trackType not in ("video", "audio", "subtitle"):
            raise ValueError("GetTrackCount(trackType): video, audio or subtitle")
        return len(self._tracks) if trackType == "video" else 0

    def AddTrack(self, trackType, subTrackType=None):
        if trackType != "video":
            raise ValueError("the fake adds video tracks only")
        self._tracks.append([])
        return True

    def GetTrackName(self, trackType, trackIndex):
        if trackType != "video" or not 1 <= _int(trackIndex, "GetTrackName(trackIndex)") <= len(self._tracks):
            return ""
        return self._track_names.get(trackIndex, "Video {}".format(trackIndex))

    def SetTrackName(self, trackType, trackIndex, name):
        _str(name, "SetTrackName(name)")
        if trackType != "video" or not 1 <= _int(trackIndex, "SetTrackName(trackIndex)") <= len(self._tracks):
            return False
        self._track_names[trackIndex] = name
        return True

    def Export(self, fileName, exportType, exportSubtype=None):
        # "Exports timeline to 'fileName' as per input exportType & exportSubtype format" (README). The fake
        # writes OpenTimelineIO only (export_otio: the shape public readbacks of Resolve's export show).
        _str(fileName, "Export(fileName)")
        _int(exportType, "Export(exportType)")
        if exportType not in EXPORT_TYPES.values():
            raise ValueError("Export(exportType): one of the resolve.EXPORT_* constants")
        if exportType != EXPORT_TYPES["EXPORT_OTIO"] or not os.path.isdir(os.path.dirname(fileName) or "."):
            return False
        import json
        with open(fileName, "w", encoding="utf-8") as handle:
            json.dump(export_otio(self), handle, indent=4)
        return True

    def GetItemListInTrack(self, trackType, index):
        if trackType != "video" or not 1 <= _int(index, "GetItemListInTrack(index)") <= len(self._tracks):
            return None
        return list(self._tracks[index - 1])

    def GetCurrentVideoItem(self): return self.playhead_item

    def AddMarker(self, frameId, color, name, note, duration, customData=""):
        if isinstance(frameId, bool) or not isinstance(frameId, (int, float)):
            raise TypeError("AddMarker frameId: a number relative to the timeline's start")
        if color not in MARKER_COLOURS:
            raise ValueError("AddMarker color {!r}".format(color))
        for value, what in ((name, "name"), (note, "note"), (customData, "customData")):
            _str(value, "AddMarker " + what)
        _int(duration, "AddMarker duration")
        if frameId in self._markers or frameId < 0 or self._start + frameId >= self.GetEndFrame():
            return False
        self._markers[frameId] = {"color": color, "duration": duration, "note": note, "name": name,
                                  "customData": customData}
        return True

    def GetMarkers(self): return {float(k): dict(v) for k, v in self._markers.items()}

    def GetMarkInOut(self):
        return {kind: dict(pair) for kind, pair in self._marks.items()}

    def SetMarkInOut(self, mark_in, mark_out, type="all"):
        # Frames from the timeline's start, Out inclusive (as public scripts use them).
        if type not in ("video", "audio", "all"):
            raise ValueError("SetMarkInOut type: video, audio or all")
        if not 0 <= _int(mark_in, "SetMarkInOut(in)") <= _int(mark_out, "SetMarkInOut(out)"):
            return False
        for kind in (("video", "audio") if type == "all" else (type,)):
            self._marks[kind] = {"in": mark_in, "out": mark_out}
        return True

    def ClearMarkInOut(self, type="all"):
        for kind in (("video", "audio") if type == "all" else (type,)):
            self._marks.pop(kind, None)
        return True

    def GetSelectedClips(self):
        return list(self.selected)


#: Timeline.Export's exportType and exportSubtype constants on the resolve object (README, "Looking up timeline
#: export properties"); EXPORT_OTIO from 18.5.0 (the README copies' version notes). The values are the fake's.
EXPORT_TYPES = {"EXPORT_AAF": 0, "EXPORT_DRT": 1, "EXPORT_EDL": 2, "EXPORT_FCP_7_XML": 3, "EXPORT_FCPXML_1_8": 4,
                "EXPORT_FCPXML_1_9": 5, "EXPORT_FCPXML_1_10": 6, "EXPORT_TEXT_CSV": 13, "EXPORT_TEXT_TAB": 14,
                "EXPORT_OTIO": 17}
EXPORT_SUBTYPES = {"EXPORT_NONE": 0, "EXPORT_AAF_NEW": 1, "EXPORT_AAF_EXISTING": 2, "EXPORT_CDL": 3,
                   "EXPORT_SDL": 4, "EXPORT_MISSING_CLIPS": 5}
EXPORT_SINCE = {"EXPORT_OTIO": (18, 5, 0)}


def _rt(value, rate):
    return {"OTIO_SCHEMA": "RationalTime.1", "rate": float(rate), "value": float(value)}


def _range(start, duration, rate):
    return {"OTIO_SCHEMA": "TimeRange.1", "start_time": _rt(start, rate), "duration": _rt(duration, rate)}


def export_otio(timeline):
    """What Timeline.Export(path, resolve.EXPORT_OTIO) writes, as public readbacks of Resolve's export show it:
    a Timeline.1 whose global_start_time is the timeline's first frame, ``Resolve_OTIO`` metadata, one Track.1
    per video track (kind Video, its name), a Gap.1 wherever no item is, each item a Clip.2 whose
    ``DEFAULT_MEDIA`` is an ExternalReference.1 with the media's "File Path" as its target_url (an image
    sequence in Resolve's bracket form, as the clip property gives it: not confirmed by any public readback),
    its available_range the media's own frames from its Start, the source_range the frames the item uses; a
    disabled item has enabled false, a constant speed change a LinearTimeWarp.1."""
    rate = float(Fraction(timeline.GetSetting("timelineFrameRate")))
    start = timeline.GetStartFrame()
    tracks = []
    for index in range(1, timeline.GetTrackCount("video") + 1):
        children, at = [], start
        for item in sorted(timeline.GetItemListInTrack("video", index), key=lambda i: i.GetStart()):
            if item.GetStart() > at:
                children.append({"OTIO_SCHEMA": "Gap.1", "metadata": {}, "name": "",
                                 "source_range": _range(0, item.GetStart() - at, rate), "effects": [],
                                 "markers": [], "enabled": True, "color": None})
            mpi = item.GetMediaPoolItem()
            props = mpi.GetClipProperty()
            first = int(props.get("Start") or 0)
            media_rate = float(Fraction(props.get("FPS") or timeline.GetSetting("timelineFrameRate")))
            ref = {"OTIO_SCHEMA": "ExternalReference.1", "metadata": {}, "name": mpi.GetName(),
                   "available_range": _range(first, int(props["Frames"]), media_rate),
                   "available_image_bounds": None, "target_url": props["File Path"]}
            effects = []
            if item._speed != 1:
                effects.append({"OTIO_SCHEMA": "LinearTimeWarp.1", "metadata": {}, "name": "",
                                "effect_name": "", "time_scalar": float(item._speed)})
            children.append({"OTIO_SCHEMA": "Clip.2", "metadata": {"Resolve_OTIO": {}}, "name": item.GetName(),
                             "source_range": _range(first + item.GetSourceStartFrame(), item.GetDuration(), rate),
                             "effects": effects, "markers": [], "enabled": item.GetClipEnabled(), "color": None,
                             "media_references": {"DEFAULT_MEDIA": ref}, "active_media_reference_key": "DEFAULT_MEDIA"})
            at = item.GetEnd()
        tracks.append({"OTIO_SCHEMA": "Track.1", "metadata": {"Resolve_OTIO": {"Locked": False}},
                       "name": timeline.GetTrackName("video", index), "source_range": None, "effects": [],
                       "markers": [], "enabled": True, "color": None, "children": children, "kind": "Video"})
    return {"OTIO_SCHEMA": "Timeline.1", "metadata": {"Resolve_OTIO": {"Resolve OTIO Meta Version": "1.0"}},
            "name": timeline.GetName(), "global_start_time": _rt(start, rate),
            "tracks": {"OTIO_SCHEMA": "Stack.1", "metadata": {}, "name": "", "source_range": None, "effects": [],
                       "markers": [], "enabled": True, "color": None, "children": tracks}}


class MediaPool:
    def __init__(self, timeline_getter):
        self._root = Folder("Master")
        self._current = self._root
        self._timeline = timeline_getter

    def GetRootFolder(self): return self._root
    def GetCurrentFolder(self): return self._current

    def SetCurrentFolder(self, folder):
        if not isinstance(folder, Folder):
            raise TypeError("SetCurrentFolder(Folder)")
        self._current = folder
        return True

    def AddSubFolder(self, folder, name):
        if not isinstance(folder, Folder):
            raise TypeError("AddSubFolder(folder, name)")
        made = Folder(_str(name, "AddSubFolder name"))
        folder._subs.append(made)
        return made

    def ImportMedia(self, items):
        if not isinstance(items, list):
            raise TypeError("ImportMedia([items...]) or ImportMedia([{clipInfo}])")
        made = []
        for info in items:
            if not isinstance(info, dict) or set(info) - IMPORT_KEYS or "FilePath" not in info:
                raise ValueError("ImportMedia clipInfo keys: FilePath, StartIndex, EndIndex; got {!r}".format(info))
            path, first, last = info["FilePath"], info.get("StartIndex"), info.get("EndIndex")
            match = re.search(r"%0(\d+)d", path)
            if not match or not isinstance(first, int) or not isinstance(last, int):
                raise ValueError("the fake imports %0Nd sequences with StartIndex/EndIndex")
            files = [path.replace(match.group(0), "{:0{}d}".format(f, int(match.group(1)))) for f in range(first, last + 1)]
            if not all(os.path.isfile(f) for f in files):
                continue  # Resolve imports nothing for missing media
            bracket = path.replace(match.group(0), "[{:0{w}d}-{:0{w}d}]".format(first, last, w=int(match.group(1))))
            mpi = media_item(bracket, fps=self._timeline().GetSetting("timelineFrameRate"))
            self._current._clips.append(mpi)
            made.append(mpi)
        return made

    def GetClipMatteList(self, MediaPoolItem_):
        if not isinstance(MediaPoolItem_, MediaPoolItem):
            raise TypeError("GetClipMatteList(MediaPoolItem)")
        return list(MediaPoolItem_.mattes)

    def DeleteClipMattes(self, MediaPoolItem_, paths):
        if not isinstance(MediaPoolItem_, MediaPoolItem) or not isinstance(paths, list):
            raise TypeError("DeleteClipMattes(MediaPoolItem, [paths])")
        MediaPoolItem_.mattes[:] = [p for p in MediaPoolItem_.mattes if p not in paths]
        return True

    def AppendToTimeline(self, clips):
        if not isinstance(clips, list) or not clips:
            raise TypeError("AppendToTimeline([{clipInfo}, ...])")
        timeline, made = self._timeline(), []
        for info in clips:
            if not isinstance(info, dict) or set(info) - CLIP_INFO_KEYS:
                raise ValueError("AppendToTimeline clipInfo keys {}, got {!r}".format(sorted(CLIP_INFO_KEYS), info))
            mpi = info["mediaPoolItem"]
            start, end = _int(info["startFrame"], "startFrame"), _int(info["endFrame"], "endFrame")
            track, record = _int(info["trackIndex"], "trackIndex"), _int(info["recordFrame"], "recordFrame")
            if info.get("mediaType") not in (None, 1, 2) or not 1 <= track <= timeline.GetTrackCount("video"):
                raise ValueError("AppendToTimeline: mediaType 1|2, 1 <= trackIndex <= track count")
            if record < timeline.GetStartFrame():
                raise ValueError("recordFrame is absolute: {} is before the timeline's start".format(record))
            step = Fraction(str(mpi.GetClipProperty("FPS"))) / Fraction(timeline.GetSetting("timelineFrameRate"))
            item = TimelineItem(mpi.GetName(), mpi, record, int((end - start) / step), start,
                                timeline.GetSetting("timelineFrameRate"))
            made.append(timeline.add_item(track, item))
        return made


class MediaStorage:
    def __init__(self):
        self.mattes = []

    def GetMountedVolumeList(self): return ["/"]

    def AddClipMattesToMediaPool(self, MediaPoolItem_, paths, stereoEye=None):
        if not isinstance(MediaPoolItem_, MediaPoolItem) or not isinstance(paths, list) or not paths:
            raise TypeError("AddClipMattesToMediaPool(MediaPoolItem, [paths], stereoEye)")
        if stereoEye not in (None, "left", "right") or not all(os.path.isfile(p) for p in paths):
            return False
        MediaPoolItem_.mattes.extend(paths)
        return True


class Project:
    def __init__(self, name, timeline, renderer=None):
        self._name, self._timeline = name, timeline
        self._pool = MediaPool(lambda: self._timeline)
        self._format, self._mode, self._settings = {"format": "mov", "codec": "ProRes422HQ"}, 0, {}
        self._jobs, self.renderer, self._n = {}, renderer, 0

    def GetName(self): return self._name
    def GetMediaPool(self): return self._pool
    def GetCurrentTimeline(self): return self._timeline
    def GetSetting(self, settingName=None):
        return {"timelineFrameRate": self._timeline.GetSetting("timelineFrameRate")}.get(settingName, "")

    def GetRenderFormats(self): return {"exr": "exr", "QuickTime": "mov"}

    def GetRenderCodecs(self, renderFormat):
        return {"RGB half (PIZ)": "RGBHalfPIZ", "RGB float (no compression)": "RGBFloat"} if renderFormat == "exr" else {}

    def GetCurrentRenderFormatAndCodec(self): return dict(self._format)

    def SetCurrentRenderFormatAndCodec(self, format, codec):
        if codec not in self.GetRenderCodecs(format).values() and format != "mov":
            return False
        self._format = {"format": format, "codec": codec}
        return True

    def GetCurrentRenderMode(self): return self._mode

    def SetCurrentRenderMode(self, renderMode):
        if renderMode not in (0, 1):
            raise ValueError("SetCurrentRenderMode(0|1)")
        self._mode = renderMode
        return True

    def SetRenderSettings(self, settings):
        if not isinstance(settings, dict) or set(settings) - RENDER_KEYS:
            raise ValueError("SetRenderSettings: unknown key(s) {}".format(sorted(set(settings) - RENDER_KEYS)))
        self._settings.update(settings)
        return True

    def AddRenderJob(self):
        self._n += 1
        job = "job-{}".format(self._n)
        self._jobs[job] = {"settings": dict(self._settings), "format": dict(self._format), "status": "Ready"}
        return job

    def StartRendering(self, *args):
        ids = args[0] if args and isinstance(args[0], list) else [a for a in args if isinstance(a, str)]
        for job in ids:
            if job not in self._jobs:
                return False
            if self.renderer is not None:
                self.renderer(self._jobs[job]["settings"], self._jobs[job]["format"])
            self._jobs[job]["status"] = "Complete"
        return True

    def IsRenderingInProgress(self): return False
    def StopRendering(self): return None

    def GetRenderJobStatus(self, jobId):
        job = self._jobs.get(jobId)
        return {"JobStatus": job["status"], "CompletionPercentage": 100 if job["status"] == "Complete" else 0} if job else {}

    def DeleteRenderJob(self, jobId):
        return self._jobs.pop(jobId, None) is not None


class ProjectManager:
    def __init__(self, project):
        self._project = project

    def GetCurrentProject(self): return self._project


class Resolve:
    def __init__(self, project, fusion=None, version="21.0.4.5"):
        self._pm, self._storage, self._fusion = ProjectManager(project), MediaStorage(), fusion
        self.version = version

    def __getattr__(self, name):
        # Timeline.Export's constants, each from the version whose README first lists it
        if name in EXPORT_TYPES or name in EXPORT_SUBTYPES:
            since = EXPORT_SINCE.get(name, (0, 0, 0))
            if tuple(int(p) for p in self.version.split(".")[:3]) < since:
                raise AttributeError("resolve.{} is new in Resolve {}".format(name, ".".join(map(str, since))))
            return EXPORT_TYPES.get(name, EXPORT_SUBTYPES.get(name))
        raise AttributeError("Resolve has no {!r}".format(name))

    def GetProjectManager(self): return self._pm
    def GetMediaStorage(self): return self._storage
    def Fusion(self): return self._fusion
    def GetProductName(self): return "DaVinci Resolve Studio"
    def GetVersionString(self): return self.version


# --- Fusion's UIManager -------------------------------------------------------------------------------------

WIDGET_PROPS = {
    "Label": {"ID", "Text", "WordWrap", "ToolTip", "Weight", "Alignment"},
    "Button": {"ID", "Text", "Enabled", "Weight", "ToolTip"},
    "LineEdit": {"ID", "Text", "PlaceholderText", "ToolTip", "Weight", "ReadOnly"},
    "SpinBox": {"ID", "Value", "Minimum", "Maximum", "SingleStep", "ToolTip", "Weight"},
    "DoubleSpinBox": {"ID", "Value", "Minimum", "Maximum", "SingleStep", "Decimals", "ToolTip", "Weight"},
    "CheckBox": {"ID", "Text", "Checked", "ToolTip", "Weight"},
    "ComboBox": {"ID", "ToolTip", "Weight"},
}


class _Events:
    def __init__(self):
        object.__setattr__(self, "_handlers", {})

    def __getattr__(self, name):
        return self._handlers.setdefault(name, _Handlers())

    def __setattr__(self, name, value):
        raise AttributeError("assign handlers as On.<ID>.<Event> = function")


class _DispatcherEvents(_Events):
    """A dispatcher's On: per-ID handlers as a window's, plus the generic ``On.Timeout`` that public Resolve
    scripts register for their ui.Timer (the event carries ``who``, the timer's ID)."""

    def __setattr__(self, name, value):
        if name != "Timeout":
            raise AttributeError("assign handlers as On.<ID>.<Event> = function, or On.Timeout")
        if not callable(value):
            raise TypeError("event handler must be callable")
        self._handlers["__timeout__"] = value

    def fire_timeout(self, who):
        handler = self._handlers.get("__timeout__")
        if handler is None:
            return False
        handler({"who": who})
        return True


class _Handlers:
    EVENTS = {"Clicked", "Close", "CurrentIndexChanged", "TextChanged", "Timeout", "ValueChanged", "Toggled"}

    def __init__(self):
        object.__setattr__(self, "handlers", {})

    def __setattr__(self, name, value):
        if name not in self.EVENTS:
            raise AttributeError("no UIManager event {!r}".format(name))
        if not callable(value):
            raise TypeError("event handler must be callable")
        self.handlers[name] = value

    def fire(self, name, ev=None):
        handler = self.handlers.get(name)
        if handler is not None:
            handler(ev or {})
        return handler is not None


class Widget:
    def __init__(self, kind, props):
        if not isinstance(props, dict):
            raise TypeError("ui.{}({{props}})".format(kind))
        unknown = set(props) - WIDGET_PROPS[kind]
        if unknown:
            raise ValueError("ui.{}: unknown propert(ies) {}".format(kind, sorted(unknown)))
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "props", dict(props))
        object.__setattr__(self, "items", [])
        if kind == "ComboBox":
            self.props["CurrentIndex"] = -1

    def __getattr__(self, name):
        if name == "CurrentText":
            index = self.props.get("CurrentIndex", -1)
            return self.items[index] if 0 <= index < len(self.items) else ""
        if name in self.props or name in ("Text", "Checked", "Value", "Enabled", "CurrentIndex"):
            return self.props.get(name, {"Enabled": True, "Checked": False, "Value": 0}.get(name, ""))
        raise AttributeError("{} has no attribute {!r}".format(self.kind, name))

    def __setattr__(self, name, value):
        allowed = WIDGET_PROPS[self.kind] | ({"CurrentIndex"} if self.kind == "ComboBox" else set())
        if name not in allowed or name == "ID":
            raise AttributeError("{}.{} cannot be set".format(self.kind, name))
        self.props[name] = value
        if name == "CurrentIndex" and self.window is not None:
            self.window.On.__getattr__(self.props["ID"]).fire("CurrentIndexChanged")

    window = None

    def AddItem(self, text):
        if self.kind != "ComboBox":
            raise AttributeError("AddItem is a ComboBox method")
        self.items.append(_str(text, "AddItem(text)"))
        if self.props["CurrentIndex"] < 0:
            self.props["CurrentIndex"] = 0

    def AddItems(self, texts):
        if not isinstance(texts, list):
            raise TypeError("AddItems([texts])")
        for text in texts:
            self.AddItem(text)


class Group:
    def __init__(self, args):
        if len(args) == 2:
            props, children = args
            if not isinstance(props, dict):
                raise TypeError("ui.VGroup({props}, [children])")
        elif len(args) == 1:
            children = args[0]
        else:
            raise TypeError("ui.VGroup([children]) or ui.VGroup({props}, [children])")
        if not isinstance(children, list):
            raise TypeError("a group's children are a list")
        self.children = children

    def widgets(self):
        for child in self.children:
            if isinstance(child, Group):
                yield from child.widgets()
            else:
                yield child


class Timer:
    def __init__(self, props):
        if set(props) - {"ID", "Interval", "SingleShot"} or "ID" not in props:
            raise ValueError("ui.Timer({ID, Interval, SingleShot})")
        self.ID, self.Interval, self.active = props["ID"], props.get("Interval", 0), False

    def Start(self): self.active = True
    def Stop(self): self.active = False


class UIManager:
    def __init__(self):
        self.timers = []

    def __getattr__(self, name):
        if name in WIDGET_PROPS:
            return lambda props: Widget(name, props)
        if name in ("VGroup", "HGroup"):
            return lambda *args: Group(args)
        raise AttributeError("UIManager has no {!r}".format(name))

    def Timer(self, props):
        timer = Timer(props)
        self.timers.append(timer)
        return timer


class Window:
    def __init__(self, props, layout):
        if not isinstance(props, dict) or "ID" not in props:
            raise TypeError("AddWindow({ID, WindowTitle, Geometry}, layout)")
        self.props = props
        self.On = _Events()
        layouts = layout if isinstance(layout, list) else [layout]
        self._items = {}
        for group in layouts:
            for widget in group.widgets():
                if "ID" in widget.props:
                    if widget.props["ID"] in self._items:
                        raise ValueError("duplicate widget ID {}".format(widget.props["ID"]))
                    self._items[widget.props["ID"]] = widget
                object.__setattr__(widget, "window", self)
        self.shown = False

    def GetItems(self): return dict(self._items)
    def Find(self, id): return self._items.get(id)
    def Show(self): self.shown = True
    def Hide(self): self.shown = False


class UIDispatcher:
    """RunLoop plays ``script``: callables(window) standing for the artist's actions, one at a time; while a
    started timer runs, the dispatcher's generic On.Timeout handler fires with the timer's ID as ``who`` (the
    route public Resolve scripts rely on; On.<ID>.Timeout is never called, as one public script found), except
    at the tick numbers of ``at_tick``, where that action happens (a Cancel mid-run), and at the first tick
    where a ``when`` predicate(window) holds, where its action happens instead (a Cancel once frames show)."""

    def __init__(self, ui):
        if not isinstance(ui, UIManager):
            raise TypeError("bmd.UIDispatcher(ui)")
        self.ui, self.On, self.windows, self.script, self.running = ui, _DispatcherEvents(), [], [], False
        self.ticks = 0
        self.at_tick = {}
        self.when = []  # (predicate(window), action(window)) pairs, each used once

    def AddWindow(self, props, layout):
        window = Window(props, layout)
        self.windows.append(window)
        return window

    def RunLoop(self):
        self.running = True
        while self.running:
            live = [t for t in self.ui.timers if t.active]
            if live:
                self.ticks += 1
                if self.ticks in self.at_tick:  # an artist's action while the run shows progress
                    self.at_tick.pop(self.ticks)(self.windows[-1])
                    continue
                ready = [pair for pair in self.when if pair[0](self.windows[-1])]
                if ready:
                    self.when.remove(ready[0])
                    ready[0][1](self.windows[-1])
                    continue
                if not self.On.fire_timeout(live[0].ID):
                    raise RuntimeError("a timer runs without a disp.On.Timeout handler (disp.On.<ID>.Timeout "
                                       "is not where Resolve delivers it)")
                if self.ticks > 20000:
                    raise RuntimeError("the timer never stopped")
                continue
            if not self.script:
                break
            self.script.pop(0)(self.windows[-1])
        self.running = False

    def ExitLoop(self):
        self.running = False


class Bmd:
    def UIDispatcher(self, ui):
        return UIDispatcher(ui)


class Fusion:
    def __init__(self):
        self.UIManager = UIManager()


def click(widget_id):
    """An artist's click, as a script step."""
    return lambda window: window.On.__getattr__(widget_id).fire("Clicked")
