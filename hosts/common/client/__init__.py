"""The Matchcut worker client shared by the Nuke, Resolve and Blender adapters (standard library only).

``worker``: find the executable, ask it questions, run and cancel a job; ``events``: a job's state from its
JSON-lines events (a training's steps too); ``jobs``: job files; ``tools``: the tools' descriptions and what a
host derives from them (a tool that trains: its pairs' frames, its resume switch, the tool that runs its model);
``farm``: a job sent to the studio's render farm instead, and the farm's job id; ``regions``: what a
continuity report flags, as one line or a marker label per region; ``coverage``: a coverage result's proposals
as placements above the edit (level, plays or waits, name, marker).
"""

#: The `matchcut tools --json` format this client reads (core: matchcut.tools.description.DESCRIPTION_VERSION).
DESCRIPTION_VERSION = 2
#: The job file version this client writes (core: matchcut.jobs.spec).
JOB_VERSION = 1
