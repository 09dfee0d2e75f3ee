"""The shared worker client (hosts/common/client), loaded as a package of its own, and fake workers."""
from __future__ import annotations

import importlib.util
import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # tests/hosts: the shared fakes
import fake_tool  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]
CLIENT = ROOT / "hosts" / "common" / "client"
WORKER = pathlib.Path(sys.executable).with_name("matchcut")


def load_client():
    """The client as package ``mc_client`` (adapters carry it as ``<adapter>.client``; relative imports only)."""
    if "mc_client" not in sys.modules:
        spec = importlib.util.spec_from_file_location("mc_client", CLIENT / "__init__.py",
                                                      submodule_search_locations=[str(CLIENT)])
        module = importlib.util.module_from_spec(spec)
        sys.modules["mc_client"] = module
        spec.loader.exec_module(module)
    import importlib as il
    return {name: il.import_module("mc_client." + name) for name in ("worker", "events", "jobs", "tools")}


@pytest.fixture
def client():
    return load_client()


@pytest.fixture
def script(tmp_path):
    """``script(body)``: an executable shell script standing in for a worker (a broken or slow one)."""
    return lambda body, name="matchcut": fake_tool.worker_script(tmp_path, body, name)


@pytest.fixture
def real_worker():
    assert WORKER.is_file(), f"the project's matchcut executable is missing: {WORKER}"
    return str(WORKER)


def write_exr(path: pathlib.Path, value: float, size=(24, 32)) -> None:
    """A textured plate around ``value`` (a colour match needs real picture content, not a flat frame)."""
    import numpy as np
    import OpenImageIO as oiio

    rng = np.random.default_rng(int(value * 1000))
    pixels = (value * (0.5 + rng.random(size + (3,)))).astype(np.float32)
    out = oiio.ImageOutput.create(str(path))
    out.open(str(path), oiio.ImageSpec(size[1], size[0], 3, "half"))
    out.write_image(pixels)
    out.close()


@pytest.fixture
def plates(tmp_path):
    """A 3-frame plate (1001-1003) and a reference still, tiny EXRs."""
    folder = tmp_path / "plates"
    folder.mkdir()
    for f in (1001, 1002, 1003):
        write_exr(folder / f"sh010.{f}.exr", 0.1 * (f - 1000))
    write_exr(folder / "ref.exr", 0.4)
    return folder


os.environ.setdefault("MATCHCUT_THREADS", "1")
