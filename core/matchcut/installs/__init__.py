"""Installing the Nuke, Resolve and Blender adapters from this package (``matchcut hosts install|uninstall|status``).

The adapters come from the package itself (a wheel carries them as ``matchcut/_adapters``; an editable install
reads ``hosts/``), each assembled with its copy of the worker client (``matchcut.adapters.assemble``) and a
record of the Matchcut version and worker it was installed from (``matchcut.adapters.RECORD``), which the
adapter compares with the worker it talks to (one line in the host when they differ).

- **Nuke**: ``--dest DIR`` writes a folder to put on ``NUKE_PATH``. Without it the adapter goes to
  ``~/.nuke/matchcut`` and one line, ``import nuke; nuke.pluginAddPath(...)`` with a marker comment, is appended
  to ``~/.nuke/init.py`` (made when missing); uninstall removes exactly that line. An ``init.py`` or ``menu.py``
  there that already loads another Matchcut stops the install with nothing changed.
- **Resolve**: the menu scripts are generated from the adapter's two templates (``templates/tool.py`` and
  ``tool.lua``), one per tool this worker describes (``matchcut.tools.description``), named by the tool's label:
  in Utility for every page, in Color or Edit too for a tool of that category, the free version's Lua stubs in
  Utility; and the launcher that lists every tool. They go to the per-user Fusion Scripts folder; the package,
  with its client, to ``<Scripts>/Matchcut``. The installer writes the tool, the package's folder, this worker's
  ``matchcut`` and its Python into the scripts, and records what it wrote in ``<Scripts>/Matchcut/installed.json``.
- **Blender**: the extension zip, built from the package data (the add-on's files at its root, as Blender's own
  ``extension build`` lays them out, the worker path preset in the record the preferences read), written to
  ``--dest`` (default: the cache's ``blender/`` folder) and installed with Blender's own command line
  (``blender --command extension install-file``) when a Blender 4.2 or later is on PATH; else left for
  *Install from Disk*.

Common rules: a file the installer wrote that nobody changed since is its own to replace or remove (a file of
an earlier install that this one no longer has goes); any other file in the way, and a folder that holds
another Matchcut version, stops the install with nothing written unless ``--force``; a folder that cannot be
written is named. Each install is noted in the per-user config folder (``settings.installs_file``), so
``matchcut hosts status`` finds installs made with ``--dest`` as well as those in the default places.
"""

