"""Exporting a learned fix: ONNX with dynamic size (the shaper inside), checked against PyTorch on a frame, and
its manifest, written by the project's manifest code, with the training summary in its ``[training]`` table.

The model then runs like any other: `matchcut apply --model FOLDER` (tiled by its receptive field where a
frame does not fit), in every host and on a farm; its provenance names the ONNX file's sha256.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from matchcut.errors import ModelError
from matchcut.learning.network import SIZE_MULTIPLE, make_network, plate_model, receptive_field

INPUT, OUTPUT = "image", "fixed"
#: The exported graph must give what PyTorch gives on a frame within this (plate values, largest difference).
EXPORT_TOLERANCE = 1e-3
OPSET = 17
LICENCE = "the production's own: trained by `matchcut learn` on the production's frames"


def model_id_for(folder: Path) -> str:
    """The id of the model a folder holds: ``learned-<folder name>`` in the manifest's id characters."""
    import re

    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(folder).resolve().name).strip("-._") or "fix"
    return f"learned-{name}"


def export_onnx(state: dict, shaped: bool, out: Path) -> Any:
    """Write the network with ``state`` as ONNX (input ``image``, output ``fixed``, NCHW, dynamic N/H/W)
    atomically; returns the torch PlateModel it exported (for the check)."""
    import torch

    net = make_network()
    net.load_state_dict(state)
    model = plate_model(net, shaped).eval()
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    dummy = torch.zeros(1, 3, 4 * SIZE_MULTIPLE, 4 * SIZE_MULTIPLE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        torch.onnx.export(model, (dummy,), str(tmp), dynamo=False, opset_version=OPSET, input_names=[INPUT],
                          output_names=[OUTPUT],
                          dynamic_axes={INPUT: {0: "N", 2: "H", 3: "W"}, OUTPUT: {0: "N", 2: "H", 3: "W"}})
    os.replace(tmp, out)
    return model


def check_export(model: Any, onnx_path: Path, frame: np.ndarray) -> float:
    """The largest difference between PyTorch and onnxruntime (CPU) on ``frame`` ((H, W, 3) plate values,
    cropped to the size multiple); ModelError naming the file when it is above EXPORT_TOLERANCE."""
    import torch

    from matchcut.runtime import DeviceOptions, create_session

    h, w = (frame.shape[0] // SIZE_MULTIPLE) * SIZE_MULTIPLE, (frame.shape[1] // SIZE_MULTIPLE) * SIZE_MULTIPLE
    x = np.ascontiguousarray(frame[:h, :w].transpose(2, 0, 1)[None], dtype=np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    session = create_session(onnx_path, DeviceOptions(provider="cpu"))
    got = np.asarray(session.run({INPUT: x})[OUTPUT], dtype=np.float32)
    worst = float(np.max(np.abs(got - expected) / np.maximum(1.0, np.abs(expected))))
    if not np.isfinite(worst) or worst > EXPORT_TOLERANCE:
        raise ModelError(f"{onnx_path}: the exported model differs from the trained network by {worst:.2e} on a "
                         f"{w}x{h} frame (at most {EXPORT_TOLERANCE} expected); it was not installed")
    return worst


def manifest_fields(colorspace: str, training: dict[str, Any], description: str) -> dict[str, Any]:
    """The manifest tables of a learned fix (see ``models.manifest``): tensors in the plates' colour space,
    the runtime (size multiple, receptive field for tiling), a Mix control and the training summary."""
    rgb = {"layout": "NCHW", "channels": ["R", "G", "B"], "range": [0.0, 1.0], "colorspace": colorspace}
    return {
        "task": "image-to-image",
        "description": description,
        "licence": LICENCE,
        "source": {"converter": "matchcut.learning"},
        "inputs": [{"name": INPUT, **rgb, "description": "the plate, in the colour space the fix was taught in"}],
        "outputs": [{"name": OUTPUT, **rgb, "description": "the plate with the learned fix (not clipped)"}],
        "runtime": {"size_multiple": SIZE_MULTIPLE, "receptive_field": receptive_field(), "temporal_window": 1,
                    "fp16": False, "fp16_note": "a learned fix runs in fp32 (no fp16 check is made for it)",
                    "tileable": True},
        "controls": [{"name": "mix", "type": "float", "default": 1.0, "min": 0.0, "max": 1.0, "label": "Mix",
                      "help": "Mix between the plate (0) and the learned fix (1)."}],
        "training": training,
    }


def write_model(folder: Path, state: dict, *, shaped: bool, colorspace: str, training: dict[str, Any],
                description: str, check_frame: np.ndarray) -> Any:
    """Export, check and describe a learned fix in ``folder``: ``<id>.onnx`` and ``<id>.toml`` (the manifest last,
    so the registry never lists a model whose file is not complete). Returns the ModelManifest as read back."""
    import matchcut
    from matchcut.models.manifest import load_manifest, manifest_from_dict, sha256_file, write_manifest
    from matchcut.models.zoo.footprint import memory_fields

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model_id = model_id_for(folder)
    onnx_path = folder / f"{model_id}.onnx"
    model = export_onnx(state, shaped, onnx_path)
    training = {**training, "export_check": float(f"{check_export(model, onnx_path, check_frame):.3g}")}
    fields = manifest_fields(colorspace, training, description)
    fields["runtime"].update(memory_fields(fields["runtime"], fields["inputs"], onnx_path))
    data = {"id": model_id, "version": matchcut.__version__, "file": onnx_path.name,
            "sha256": sha256_file(onnx_path), **fields}
    path = folder / f"{model_id}.toml"
    write_manifest(manifest_from_dict(data, path), path)
    return load_manifest(path)
