"""Light specs: CLI text and JSON, the errors a typo or a bad value gets, the table the shading graph takes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matchcut.errors import SettingError
from matchcut.relight.lights import (
    AREA_SAMPLES,
    FIELDS,
    TABLE_COLUMNS,
    flipped,
    light_from_dict,
    light_table,
    load_lights_file,
    parse_light,
    parse_lights,
)


def test_cli_text_and_json_give_the_same_light():
    text = parse_light("spot position=-0.6,0.3,0.8 cone=40 softness=0.3 color=1,0.85,0.7 intensity=1.5 wrap=0.2")
    data = light_from_dict({"type": "spot", "position": [-0.6, 0.3, 0.8], "cone": 40, "softness": 0.3,
                            "color": [1, 0.85, 0.7], "intensity": 1.5, "wrap": 0.2})
    assert text == data
    assert text.to_dict()["cone"] == 40.0 and "direction" not in text.to_dict()
    assert parse_light(json.dumps(data.to_dict())) == data


def test_every_type_parses_and_round_trips():
    specs = ["directional direction=-1,0,0.5 specular=0.5 roughness=0.3", "point position=0.3,0.2,0.5 falloff=linear",
             "spot position=0,1,1 target=0,0,0", "area position=0,0.5,0.5 size=0.4"]
    lights = parse_lights(specs)
    assert [light.type for light in lights] == ["directional", "point", "spot", "area"]
    assert parse_lights([light.to_dict() for light in lights]) == lights
    assert parse_lights(" ; ".join(specs)) == lights  # one text, lights separated by ';'
    assert parse_lights(json.dumps({"lights": [light.to_dict() for light in lights]})) == lights


def test_a_typo_names_the_field_and_lists_the_valid_ones():
    with pytest.raises(SettingError, match=r"light 1: intensty.*valid: .*intensity") as err:
        parse_light("directional direction=-1,0,0 intensty=2")
    for name in FIELDS["directional"]:
        assert name in str(err.value)
    with pytest.raises(SettingError, match=r"light 2 \('rim'\): cone.*not a field of a point light"):
        parse_lights(["directional", {"type": "point", "name": "rim", "cone": 30}])
    with pytest.raises(SettingError, match=r"unknown light type 'spto'.*valid: area, directional, point, spot"):
        parse_light("spto position=0,0,1")
    with pytest.raises(SettingError, match=r"falloff.*valid: linear, none, quadratic"):
        parse_light("point falloff=cubic")


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_zero_or_negative_intensity_is_refused(value):
    with pytest.raises(SettingError, match="light 1: intensity"):
        parse_light(f"directional direction=-1,0,0.5 intensity={value}")


@pytest.mark.parametrize("spec, field", [("directional direction=0,0,0", "direction"),
                                         ("directional direction=1,2", "direction"),
                                         ("spot position=0,0,1 target=0,0,1", "target"),
                                         ("spot cone=200", "cone"), ("directional wrap=2", "wrap"),
                                         ("directional color=1,-1,1", "color"), ("directional intensity=abc", "intensity")])
def test_bad_values_name_their_field(spec, field):
    with pytest.raises(SettingError, match=f"light 1: {field}"):
        parse_light(spec)


def test_no_light_and_bad_json_are_refused(tmp_path):
    with pytest.raises(SettingError, match="at least one light"):
        parse_lights([])
    with pytest.raises(SettingError, match="not valid JSON"):
        parse_lights("[{")
    bad = tmp_path / "lights.json"
    bad.write_text('{"lights": [{"type": "point", "colour": [1, 1, 1]}]}')
    with pytest.raises(SettingError, match="colour.*valid: .*color"):
        load_lights_file(str(bad))
    good = tmp_path / "good.json"
    good.write_text('[{"type": "directional", "direction": [-1, 0, 0.5]}]')
    assert load_lights_file(str(good))[0]["type"] == "directional"


def test_table_rows_and_area_samples():
    lights = parse_lights(["directional direction=0,0,2 intensity=2 color=1,0.5,0.25", "area position=0,0,1 size=0.5"])
    table = light_table(lights)
    assert table.shape == (1 + AREA_SAMPLES ** 2, len(TABLE_COLUMNS))
    np.testing.assert_allclose(table[0, :3], [2, 1, 0.5])
    np.testing.assert_allclose(table[0, 6:9], [0, 0, 1])  # direction normalised
    # The area light's samples share its intensity and spread over its size around its position.
    np.testing.assert_allclose(table[1:, :3].sum(axis=0), [1, 1, 1], rtol=1e-6)
    np.testing.assert_allclose(table[1:, 6:9].mean(axis=0), [0, 0, 1], atol=1e-6)
    assert np.ptp(table[1:, 6]) == pytest.approx(0.5 * (1 - 1 / AREA_SAMPLES), rel=1e-5)


def test_flipped_mirrors_x():
    light = parse_light("spot position=-0.5,0.2,1 target=0.1,0,0")
    assert flipped(light).position == (0.5, 0.2, 1.0) and flipped(light).target == (-0.1, 0.0, 0.0)
