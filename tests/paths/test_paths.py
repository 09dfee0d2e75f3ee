"""Paths written on another machine: Windows and UNC paths, file:// URLs, mapping rules from every source."""

import pytest

from matchcut.errors import InputError, PathEscapeError, SettingError
from matchcut.paths import (
    PathMap,
    example_rule,
    is_windows_path,
    load_path_map,
    local_path,
    parse_rule,
    rules_from_text,
    written_path,
)
from matchcut.settings import PATH_MAP_VAR


@pytest.mark.parametrize("url, plain", [
    ("file://localhost/D%3a/media/sc01_sh010_anim.mov", "D:/media/sc01_sh010_anim.mov"),  # Premiere's FCP XML
    ("file:///D:/media/x.mov", "D:/media/x.mov"),
    ("file://D:/media/x.mov", "D:/media/x.mov"),
    ("file://fileserver/show/sh010/sh010.1001.exr", "//fileserver/show/sh010/sh010.1001.exr"),
    ("file:///mnt/show/a%20b/x.exr", "/mnt/show/a b/x.exr"),
    ("file://localhost/A160R0MN/x.mxf", "/A160R0MN/x.mxf"),  # Hiero's
    ("S:\\path\\to\\x.exr", "S:\\path\\to\\x.exr"),
    ("media/x.exr", "media/x.exr"),
])
def test_written_paths_in_one_plain_form(url, plain):
    assert written_path(url) == plain


def test_windows_paths_are_drive_letters_and_unc_shares():
    assert all(is_windows_path(p) for p in ("S:\\x", "s:/x", "S:", "\\\\srv\\share\\x", "//srv/share/x"))
    assert not any(is_windows_path(p) for p in ("/mnt/x", "x/y", "S:x", "\\\\srv"))


def test_the_longest_rule_wins_whole_folders_only_any_case_and_slash():
    paths = PathMap([parse_rule("S:\\=/mnt/s"), parse_rule("s:/Show=/mnt/show"),
                     parse_rule("\\\\srv\\share=/net/share"), parse_rule("/Volumes/show=/mnt/show")])
    m = paths.map("S:\\show\\sh010\\sh010.1001.exr")
    assert m.path == "/mnt/show/sh010/sh010.1001.exr" and m.rule.text == "s:/Show=/mnt/show"
    assert [r.text for r in m.shadowed] == ["S:\\=/mnt/s"]
    assert paths.map("S:\\showreel\\x.exr").path == "/mnt/s/showreel/x.exr"  # a folder, not a prefix of a name
    assert paths.map("//SRV/Share/a/b.exr").path == "/net/share/a/b.exr"
    assert paths.map("/Volumes/show/x.exr").path == "/mnt/show/x.exr"
    assert paths.map("/volumes/show/x.exr") is None  # macOS/Linux paths keep their case
    assert paths.map("D:\\x.exr") is None


def test_a_rule_may_map_onto_windows_with_its_own_slashes():
    assert PathMap([parse_rule("/mnt/show=S:\\show")]).map("/mnt/show/a/b.exr").path == "S:\\show\\a\\b.exr"


def test_equal_rules_the_first_given_wins():
    paths = load_path_map(["S:\\show=/first"], environ={PATH_MAP_VAR: "S:\\show=/second"})
    assert paths.map("S:\\show\\x").path == "/first/x"


def test_rules_from_the_command_line_a_file_and_the_environment_in_that_order(tmp_path):
    rules = tmp_path / "rules.txt"
    rules.write_text("# the show's rules (a '#' starts a comment at the start of a line only)\nT:\\=/mnt/t\n\n"
                     "\\\\srv\\share=/net/share\n")
    env = {PATH_MAP_VAR: "U:\\=/mnt/u;V:\\=/mnt/v\nW:\\=/mnt/w"}
    paths = load_path_map(["S:\\=/mnt/s"], [rules], environ=env)
    assert [r.text for r in paths.rules] == ["S:\\=/mnt/s", "T:\\=/mnt/t", "\\\\srv\\share=/net/share",
                                            "U:\\=/mnt/u", "V:\\=/mnt/v", "W:\\=/mnt/w"]
    assert [r.origin for r in paths.rules] == ["--map", f"{rules} line 2", f"{rules} line 4",
                                               f"{PATH_MAP_VAR} line 1", f"{PATH_MAP_VAR} line 1",
                                               f"{PATH_MAP_VAR} line 2"]
    assert paths.map("W:\\x").path == "/mnt/w/x"


def test_bad_rules_and_files_are_named():
    with pytest.raises(SettingError, match="--map: rule 'S:/show' is not FROM=TO"):
        parse_rule("S:/show")
    with pytest.raises(SettingError, match="rule 'show=/mnt/show': FROM must be an absolute path"):
        parse_rule("show=/mnt/show")
    with pytest.raises(SettingError, match=f"{PATH_MAP_VAR}: rule 'nonsense'"):
        rules_from_text("nonsense", PATH_MAP_VAR)
    with pytest.raises(InputError, match="missing.txt: cannot read the path map file"):
        load_path_map(files=["/nowhere/missing.txt"], environ={})


def test_local_paths_say_why_not(tmp_path):
    unmapped = local_path("S:\\show\\sh010\\x.exr", tmp_path, PathMap())
    assert unmapped.path == "" and unmapped.problem == ("a Windows path, and no path map rule covers it "
                                                        "(e.g. --map 'S:\\show=/mnt/show')")
    mapped = local_path("S:\\show\\sh010\\x.exr", tmp_path, PathMap([parse_rule(f"S:\\show={tmp_path}")]))
    assert mapped.path == f"{tmp_path}/sh010/x.exr" and mapped.mapped.rule.source == "S:\\show"
    assert local_path("http://example.com/x.mov", tmp_path).problem == "not a local file (http URL)"
    assert local_path("media\\sh010\\x.exr", tmp_path).path == str(tmp_path / "media" / "sh010" / "x.exr")
    with pytest.raises(PathEscapeError):
        local_path("..\\..\\etc\\passwd", tmp_path)


def test_hint_rules_name_the_top_folder():
    assert example_rule("D:/media/x.mov") == "D:/media=/mnt/media"
    assert example_rule("\\\\fileserver\\show\\sh010\\x.exr") == "\\\\fileserver\\show=/mnt/show"
    assert example_rule("S:\\x.exr") == "S:\\=/mnt/s"
