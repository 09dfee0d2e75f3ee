"""With the zoo: a region on the astronaut is wardrobe ("person"), one beside her is the set."""

import pytest

from matchcut.continuity.compare import compare
from matchcut.runtime import DeviceOptions
from matchcut.testing.planted import make_pair


@pytest.mark.zoo
def test_regions_on_the_person_and_on_the_set(zoo_model):
    zoo_model("selfie-segmentation")
    zoo_model("face-detection")
    pair = make_pair("astronaut", seed=0, size=(270, 480))
    c = compare(pair.a, pair.b, person=True, device=DeviceOptions(provider="cpu"))
    assert c.person is True
    on = {r.on for r in c.regions}
    assert "person" in on and "set" in on
