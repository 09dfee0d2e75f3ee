"""`matchcut hosts install|uninstall|status nuke|blender` (Resolve: test_cli_hosts.py), the record every installed
adapter carries, and where the adapters come from (the wheel's package data, else the checkout)."""

from __future__ import annotations

import json
import os
import pathlib
import stat
import subprocess
import sys
import zipfile

import pytest

from matchcut import __version__, adapters
from matchcut.cli.app import main

ROOT = pathlib.Path(__file__).resolve().parents[2]
BLENDER_PY = ROOT / (os.environ.get("MATCHCUT_BLENDER_PYTHON") or ".venv-blender/bin/python")
LINE_END = "# Matchcut: added by `matchcut hosts install nuke`; `matchcut hosts uninstall nuke` removes this line"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A home of its own (~/.nuke, the cache and config folders), and a PATH with no blender on it."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MATCHCUT_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("MATCHCUT_CONFIG_DIR", str(home / "config"))
    for var in ("BLENDER_USER_RESOURCES", "BLENDER_USER_EXTENSIONS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", os.pathsep.join([str(pathlib.Path(sys.executable).parent), "/usr/bin", "/bin"]))
    return home


def _cli(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


def _tree(folder: pathlib.Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _executable(path: pathlib.Path, text: str) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# --- where the adapters come from ------------------------------------------------------------------------------

def test_the_wheel_build_step_takes_the_files_assemble_takes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("matchcut_setup", ROOT / "setup.py")
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)  # not __main__: setup() is not called
    assert setup.SUFFIXES == adapters.SUFFIXES and setup.TARGET == ("matchcut", adapters.PACKAGED)
    shipped = set(setup.adapter_files(ROOT / "hosts"))
    for host, (folder, package) in adapters.ADAPTERS.items():
        into = f"{package}/client/" if package else "client/"
        for rel in adapters.assemble(host):
            source = "common/client/" + rel[len(into):] if rel.startswith(into) else f"{folder}/{rel}"
            assert source in shipped, (host, rel)
    assert not any("__pycache__" in rel or rel.endswith(".pyc") for rel in shipped)


def test_packaged_adapters_come_first_then_the_checkout(tmp_path, monkeypatch):
    import matchcut

    site = tmp_path / "site" / "matchcut"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("")
    monkeypatch.setattr(matchcut, "__file__", str(site / "__init__.py"))
    from matchcut.errors import SettingError

    with pytest.raises(SettingError, match=r"no host adapters in .*_adapters \(an installed wheel\) nor .*hosts"):
        adapters.hosts_root()
    for rel, source in ((r, ROOT / "hosts" / r) for r in ("common/client/__init__.py", "nuke/init.py")):
        target = site / "_adapters" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    assert adapters.hosts_root() == site / "_adapters"
    monkeypatch.undo()
    assert adapters.hosts_root() == ROOT / "hosts"  # the editable install: the checkout


def test_the_record_is_stable_for_the_same_install():
    first = adapters.make_record("nuke", "/env/bin/matchcut")
    data = json.loads(first)
    assert data["version"] == __version__ and data["host"] == "nuke" and data["worker"] == "/env/bin/matchcut"
    assert adapters.make_record("nuke", "/env/bin/matchcut", first) == first
    assert json.loads(adapters.make_record("nuke", "/other/matchcut", first))["worker"] == "/other/matchcut"
    assert adapters.read_record(b"not json") is None and adapters.read_record(None) is None


# --- Nuke ------------------------------------------------------------------------------------------------------

def test_nuke_under_dot_nuke_adds_one_line_and_uninstall_removes_exactly_it(home, capsys):
    init = home / ".nuke" / "init.py"
    init.parent.mkdir()
    mine = "import nuke\r\nnuke.pluginAddPath('./gizmos')"  # CRLF, no newline at the end: kept exactly
    init.write_bytes(mine.encode())
    init.chmod(0o640)
    code, out, err = _cli(["hosts", "install", "nuke", "--dry-run"], capsys)
    assert code == 0 and "would add to" in out and not (home / ".nuke" / "matchcut").exists()
    assert init.read_bytes() == mine.encode()
    code, out, err = _cli(["hosts", "install", "nuke", "--worker", "/env/bin/matchcut"], capsys)
    assert code == 0, err
    folder = home / ".nuke" / "matchcut"
    line = f"import nuke; nuke.pluginAddPath({folder.as_posix()!r})  {LINE_END}"
    assert f"added to {init}: {line}" in out and "loaded by" in out
    assert init.read_bytes() == (mine + "\r\n" + line + "\r\n").encode()
    assert stat.S_IMODE(init.stat().st_mode) == 0o640  # the artist's file keeps its mode
    assert (folder / "init.py").is_file() and (folder / "menu.py").is_file()
    assert (folder / "matchcut_nuke" / "client" / "worker.py").is_file()
    record = json.loads((folder / "matchcut_nuke" / adapters.RECORD).read_text())
    assert record["version"] == __version__ and record["worker"] == "/env/bin/matchcut"
    assert record["line"] == line and record["init_py"] == str(init) and not record["created_init"]
    assert stat.S_IMODE((folder / "menu.py").stat().st_mode) & 0o044  # readable by others (a shared folder)
    # again: nothing changes, the line is not added twice
    code, out, _ = _cli(["hosts", "install", "nuke", "--worker", "/env/bin/matchcut"], capsys)
    assert code == 0 and "wrote:" not in out and "replaced:" not in out and init.read_text().count("pluginAddPath") == 2
    assert json.loads((folder / "matchcut_nuke" / adapters.RECORD).read_text())["installed"] == record["installed"]
    code, out, _ = _cli(["hosts", "status"], capsys)
    assert f"nuke     {__version__:<8} {folder}: runs another worker: /env/bin/matchcut; loaded by {init}" in out
    code, out, _ = _cli(["hosts", "uninstall", "nuke"], capsys)
    assert code == 0 and f"removed from {init}: {line}" in out
    assert init.read_bytes() == (mine + "\r\n").encode() and not folder.exists()
    code, out, _ = _cli(["hosts", "uninstall", "nuke"], capsys)
    assert code == 0 and "nothing removed" in out


def test_nuke_makes_init_py_when_missing_and_removes_it_again(home, capsys):
    assert _cli(["hosts", "install", "nuke"], capsys)[0] == 0
    init = home / ".nuke" / "init.py"
    assert init.read_text().count("\n") == 1 and "pluginAddPath" in init.read_text()
    assert _cli(["hosts", "uninstall", "nuke"], capsys)[0] == 0
    assert not init.exists() and not (home / ".nuke" / "matchcut").exists()


@pytest.mark.parametrize("name, text", [
    ("init.py", "import nuke\nnuke.pluginAddPath('/studio/tools/matchcut/hosts/nuke')\n"),
    ("menu.py", "# our menus\nimport matchcut_nuke.host\n"),
])
def test_nuke_refuses_a_dot_nuke_that_already_loads_another_matchcut(home, capsys, name, text):
    dot_nuke = home / ".nuke"
    dot_nuke.mkdir()
    (dot_nuke / name).write_text(text)
    before = _tree(dot_nuke)
    code, _, err = _cli(["hosts", "install", "nuke"], capsys)
    assert code == 3 and f"{dot_nuke / name}: line 2 already loads a Matchcut" in err and "nothing was changed" in err
    assert _tree(dot_nuke) == before  # nothing changed, not even with --force
    assert _cli(["hosts", "install", "nuke", "--force"], capsys)[0] == 3 and _tree(dot_nuke) == before
    (dot_nuke / name).write_text("# matchcut used to be loaded here\n")  # a comment is not a loader
    assert _cli(["hosts", "install", "nuke"], capsys)[0] == 0


def test_nuke_leaves_a_linked_init_py_alone(tmp_path, home, capsys):
    shared = tmp_path / "studio" / "init.py"
    shared.parent.mkdir()
    shared.write_text("import nuke\n")
    (home / ".nuke").mkdir()
    (home / ".nuke" / "init.py").symlink_to(shared)
    code, _, err = _cli(["hosts", "install", "nuke"], capsys)
    assert code == 3 and f"is a link to {shared}; nothing was changed" in err
    assert shared.read_text() == "import nuke\n" and (home / ".nuke" / "init.py").is_symlink()
    assert not (home / ".nuke" / "matchcut").exists()


def test_nuke_path_folder_runs_on_the_standard_library_alone(tmp_path, home, capsys):
    dest = tmp_path / "studio" / "nuke" / "matchcut"
    code, out, err = _cli(["hosts", "install", "nuke", "--dest", str(dest)], capsys)
    assert code == 0 and "put it on NUKE_PATH" in out, err
    assert not (home / ".nuke").exists()  # nothing under ~/.nuke with --dest
    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "import matchcut_nuke.descriptions, matchcut_nuke.job_plan, matchcut_nuke.client.tools as t\n"
            "print(t.installed_record(matchcut_nuke.descriptions.os.path.dirname(matchcut_nuke.__file__))['version'])\n")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(dest)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == __version__, done.stdout
    assert set(adapters.assemble("nuke")) <= set(_tree(dest))


def test_another_version_is_named_and_replaced_only_with_force(tmp_path, capsys):
    dest = tmp_path / "nuke"
    assert _cli(["hosts", "install", "nuke", "--dest", str(dest)], capsys)[0] == 0
    record = dest / "matchcut_nuke" / adapters.RECORD
    record.write_text(json.dumps(dict(json.loads(record.read_text()), version="0.0.9", installed="2024-05-01")))
    code, _, err = _cli(["hosts", "install", "nuke", "--dest", str(dest)], capsys)
    assert code == 4 and f"{dest}: cannot write: it holds the Nuke adapter of Matchcut 0.0.9 (installed 2024-05-01" in err
    assert f"pass --force to replace it with Matchcut {__version__}" in err
    code, out, _ = _cli(["hosts", "status"], capsys)
    assert f"nuke     0.0.9    {dest}: installed from Matchcut 0.0.9, this worker is {__version__}: run " \
           f"`matchcut hosts install nuke --dest {dest}`" in out
    code, out, _ = _cli(["hosts", "install", "nuke", "--dest", str(dest), "--force"], capsys)
    assert code == 0 and json.loads(record.read_text())["version"] == __version__
    # an artist's file in the way stops it, edited files are kept on uninstall
    mine = dest / "matchcut_nuke" / "knobs.py"
    mine.write_text("# edited\n")
    code, _, err = _cli(["hosts", "install", "nuke", "--dest", str(dest)], capsys)
    assert code == 4 and "knobs.py: cannot write: exists and is not a file Matchcut installed" in err
    code, out, _ = _cli(["hosts", "uninstall", "nuke", "--dest", str(dest)], capsys)
    assert code == 0 and f"kept (edited since it was installed): {mine}" in out and mine.is_file()
    assert not (dest / "menu.py").exists()


def test_a_folder_that_cannot_be_written_is_named(tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if pathlib.Path(p) == locked else real(p, mode))
    for host in ("nuke", "resolve", "blender"):
        code, _, err = _cli(["hosts", "install", host, "--dest", str(locked / "sub")], capsys)
        assert code == 4 and f"{locked}: cannot write: the folder is not writable" in err, (host, err)
    assert not list(locked.iterdir())
    (tmp_path / "a-file").write_text("x")
    code, _, err = _cli(["hosts", "install", "nuke", "--dest", str(tmp_path / "a-file" / "x")], capsys)
    assert code == 4 and "a-file: cannot write: is a file, not a folder" in err


# --- Blender -----------------------------------------------------------------------------------------------------

def test_blender_without_blender_on_path_writes_the_zip_for_install_from_disk(tmp_path, home, capsys):
    code, out, err = _cli(["hosts", "install", "blender", "--worker", "/env/bin/matchcut"], capsys)
    assert code == 0, err
    name = f"matchcut-{adapters.extension_version(adapters.assemble('blender'))}.zip"
    path = home / "cache" / "blender" / name
    assert f"wrote: {path}" in out and "no blender on PATH" in out and "Install from Disk" in out
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        record = json.loads(archive.read(adapters.RECORD))
    assert set(names) == set(adapters.assemble("blender")) | {adapters.RECORD}
    assert "blender_manifest.toml" in names and "client/worker.py" in names and not any("/" in n for n in names
                                                                                      if n.endswith(".toml"))
    assert record["worker"] == "/env/bin/matchcut" and record["version"] == __version__
    code, out, _ = _cli(["hosts", "install", "blender", "--worker", "/env/bin/matchcut"], capsys)
    assert code == 0 and f"unchanged: {path}" in out  # byte for byte the same zip
    code, out, _ = _cli(["hosts", "status", "--json"], capsys)
    assert [(e["host"], e["where"], e["matches"]) for e in json.loads(out)["installs"]] == [("blender", str(path), True)]
    code, out, _ = _cli(["hosts", "uninstall", "blender", "--zip-only"], capsys)
    assert code == 0 and f"removed: {path}" in out and not path.exists()


def test_blender_zip_in_the_way_or_of_another_version(tmp_path, capsys):
    dest = tmp_path / "zips"
    name = f"matchcut-{adapters.extension_version(adapters.assemble('blender'))}.zip"
    dest.mkdir()
    (dest / name).write_bytes(b"someone else's zip")
    code, _, err = _cli(["hosts", "install", "blender", "--dest", str(dest), "--zip-only"], capsys)
    assert code == 4 and "is not a Matchcut extension zip" in err and (dest / name).read_bytes() == b"someone else's zip"
    assert _cli(["hosts", "install", "blender", "--dest", str(dest), "--zip-only", "--force"], capsys)[0] == 0
    files = adapters.zip_files((dest / name).read_bytes())
    old = json.loads(files[adapters.RECORD])
    files[adapters.RECORD] = json.dumps(dict(old, version="0.0.9")).encode()
    (dest / name).write_bytes(adapters.extension_zip(files))
    code, _, err = _cli(["hosts", "install", "blender", "--dest", str(dest), "--zip-only"], capsys)
    assert code == 4 and "it holds the Blender adapter of Matchcut 0.0.9" in err and "--force" in err
    code, _, err = _cli(["hosts", "install", "nuke", "--zip-only"], capsys)
    assert code == 3 and "--zip-only" in err and "blender` only" in err


def test_blender_too_old_for_extensions_falls_back_to_the_zip(tmp_path, home, capsys):
    old = _executable(tmp_path / "bin" / "blender", "#!/bin/sh\necho 'Blender 4.1.1'\necho '\tbuild date: 2024'\n")
    code, out, err = _cli(["hosts", "install", "blender", "--blender", str(old)], capsys)
    assert code == 0, err
    assert f"{old} is Blender 4.1.1: installing an extension from the command line needs Blender 4.2 or later" in out
    assert "Install from Disk" in out and list((home / "cache" / "blender").glob("matchcut-*.zip"))


def test_blender_that_fails_to_install_leaves_the_zip(tmp_path, capsys):
    broken = _executable(tmp_path / "bin" / "blender", "#!/bin/sh\n[ \"$1\" = --version ] && echo 'Blender 4.5.0' "
                         "&& exit 0\necho 'Error: repository not found: user_default'\nexit 1\n")
    code, out, _ = _cli(["hosts", "install", "blender", "--dest", str(tmp_path / "z"), "--blender", str(broken)], capsys)
    assert code == 0 and "Blender 4.5.0 could not install it" in out and "repository not found" in out
    assert "Install from Disk" in out


@pytest.mark.blender
def test_blender_on_path_installs_and_enables_the_extension_with_the_worker_preset(tmp_path, home, capsys,
                                                                                   monkeypatch):
    """A `blender` on PATH that is real Blender (bpy) running its own extension command line."""
    if not BLENDER_PY.exists():
        pytest.fail(f"{BLENDER_PY} is missing; create it with: make blender-venv")
    _executable(tmp_path / "bin" / "blender", f"""#!/bin/sh
if [ "$1" = "--version" ]; then exec {BLENDER_PY} -c "import bpy; print('Blender', bpy.app.version_string)"; fi
[ "$1" = "--command" ] && [ "$2" = "extension" ] || exit 2
shift 2
exec {BLENDER_PY} -c "import sys, bpy; from bl_pkg import bl_extension_cli as c; sys.exit(c.cli_extension_handler(sys.argv[1:]))" "$@"
""")
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path / "bin"), os.environ["PATH"]]))
    resources = tmp_path / "blender-user"
    monkeypatch.setenv("BLENDER_USER_RESOURCES", str(resources))
    worker = str(pathlib.Path(sys.executable).with_name("matchcut"))
    code, out, err = _cli(["hosts", "install", "blender", "--worker", worker], capsys)
    assert code == 0, err
    assert "installed and enabled in Blender " in out and "(installed)" in out
    extension = resources / "extensions" / "user_default" / "matchcut"
    assert json.loads((extension / adapters.RECORD).read_text())["worker"] == worker
    code, out, _ = _cli(["hosts", "status"], capsys)
    assert f"blender  {__version__:<8} {extension}: matches this worker" in out
    check = ("import bpy, json\n"
             "bpy.ops.wm.read_userpref()\n"
             "addon = bpy.context.preferences.addons.get('bl_ext.user_default.matchcut')\n"
             "print(json.dumps([addon.preferences.worker_path, hasattr(bpy.ops.matchcut, 'strip_match')]))\n")
    done = subprocess.run([str(BLENDER_PY), "-c", check], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=240, env=dict(os.environ, MATCHCUT_WORKER=""))
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [worker, True]  # the Worker preset, the tools there
    code, out, _ = _cli(["hosts", "uninstall", "blender"], capsys)
    assert code == 0 and "removed the extension from Blender" in out and not extension.exists()


# --- build ---------------------------------------------------------------------------------------------------------

def test_build_writes_the_record_too(tmp_path, capsys):
    code, out, _ = _cli(["hosts", "build", "blender", "--out", str(tmp_path / "src"), "--worker", "/w/matchcut"],
                        capsys)
    assert code == 0 and json.loads((tmp_path / "src" / adapters.RECORD).read_text())["worker"] == "/w/matchcut"
    code, _, err = _cli(["hosts", "build", "maya", "--out", str(tmp_path / "x")], capsys)
    assert code == 3 and "unknown host 'maya'" in err
