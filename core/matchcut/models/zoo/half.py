"""fp16 variants of zoo models, built at install and checked against fp32 on a real photo.

The conversion is onnxruntime's own float16 tool (``onnxruntime.transformers.float16``, MIT, part of the
onnxruntime wheel the project already depends on: the same code as onnxconverter-common), with the inputs and
outputs kept float32 so callers feed the same arrays. RIFE's warp stays fp32: GridSample, and every node that
builds its sampling grid from the flow (pixel coordinates up to 3840 have a step of 2-4 px in fp16), are
block-listed. A variant whose PSNR on the check photo drops by QUALITY_TOLERANCE_DB or more is deleted and the
model stays fp32; either way the manifest's runtime.fp16_note says what happened, in one line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from matchcut.errors import ModelError

#: The largest PSNR loss (dB) an fp16 variant may show against fp32 on the check photo and still be used.
QUALITY_TOLERANCE_DB = 0.1
#: Ops that stay fp32 in every variant: bilinear sampling and the integer ranges the sampling grid starts from.
FP32_OPS = ("GridSample", "Range")
#: Ops that end the walk back from a sampling grid: the network body, which fp16 is for.
_BODY_OPS = frozenset({"Conv", "ConvTranspose", "DepthToSpace", "LeakyRelu", "PRelu", "Relu", "Sigmoid", "HardSwish"})
#: Check-photo size (height, width): large enough for RIFE's coarsest level at 1/16 scale, quick on the CPU.
CHECK_SIZE = (512, 512)
#: The check pair's motion in pixels (rows, columns) from frame 0 to frame 1; the truth sits halfway.
CHECK_MOTION = (-4, 6)
#: Pixels left out of the PSNR at each border: np.roll wraps the photo round there.
CHECK_MARGIN = 16
#: Models with a check besides every interpolation model: a picture and its ground truth (degrain-small: its
#: held-out photo and evaluation grain). Others stay fp32, the note saying so.
CHECKED_MODELS = ("degrain-small",)


def grid_nodes(model: Any) -> list[str]:
    """Names of the nodes that compute GridSample's sampling grids: walked back from each grid input through
    the arithmetic, shape and resize nodes, stopping at the network body (_BODY_OPS)."""
    producer = {out: node for node in model.graph.node for out in node.output}
    stack = [node.input[1] for node in model.graph.node if node.op_type == "GridSample" and len(node.input) > 1]
    seen: set[str] = set()
    names: set[str] = set()
    while stack:
        tensor = stack.pop()
        if tensor in seen or tensor not in producer:
            continue
        seen.add(tensor)
        node = producer[tensor]
        if node.op_type in _BODY_OPS:
            continue
        names.add(node.name)
        stack.extend(node.input)
    return sorted(names)


def _repair(model: Any) -> None:
    """Fix what the float16 tool leaves behind with block lists: identical Cast nodes added twice for one
    tensor (SSA broken), repeated node names, and added casts out of topological order."""
    produced: dict[str, Any] = {}
    kept = []
    for node in model.graph.node:
        twin = produced.get(node.output[0]) if node.op_type == "Cast" and node.output else None
        if twin is not None:
            if list(twin.input) != list(node.input) or list(twin.attribute) != list(node.attribute):
                raise ModelError(f"fp16 conversion: two different nodes write tensor {node.output[0]}")
            continue
        produced.update((out, node) for out in node.output)
        kept.append(node)
    counts: dict[str, int] = {}
    for node in kept:
        if node.name:
            counts[node.name] = counts.get(node.name, 0) + 1
            if counts[node.name] > 1:
                node.name = f"{node.name}_{counts[node.name] - 1}"
    ready = {i.name for i in model.graph.input} | {t.name for t in model.graph.initializer} | {""}
    ordered, waiting = [], kept
    while waiting:
        rest = [n for n in waiting if not all(i in ready for i in n.input)]
        for node in waiting:
            if node not in rest:
                ordered.append(node)
                ready.update(node.output)
        if len(rest) == len(waiting):
            raise ModelError(f"fp16 conversion: node {rest[0].name} reads a tensor no node writes")
        waiting = rest
    del model.graph.node[:]
    model.graph.node.extend(ordered)


def convert(src: Path, dst: Path) -> list[str]:
    """Write the fp16 variant of the ONNX file ``src`` to ``dst`` (float32 inputs and outputs, FP32_OPS and
    the sampling-grid nodes kept fp32); returns the names of the nodes kept fp32 by name."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(src))
    keep = grid_nodes(model)
    half = convert_float_to_float16(model, keep_io_types=True, op_block_list=list(FP32_OPS), node_block_list=keep)
    _repair(half)
    onnx.checker.check_model(half)
    onnx.save(half, str(dst))
    return keep


def _interpolation_score(session: Any) -> float:
    """PSNR of the middle frame between the astronaut photo and a copy moved by CHECK_MOTION, against the
    photo moved halfway: a real picture whose true middle frame is known."""
    from matchcut.testing.metrics import psnr
    from matchcut.testing.photos import photo

    inputs = [i.name for i in session.inputs]
    img = photo("astronaut", colorspace="srgb", size=CHECK_SIZE).transpose(2, 0, 1)[None]
    dy, dx = CHECK_MOTION
    moved = np.roll(img, (dy, dx), axis=(2, 3))
    truth = np.roll(img, (dy // 2, dx // 2), axis=(2, 3))
    feeds = {inputs[0]: np.ascontiguousarray(img), inputs[1]: np.ascontiguousarray(moved)}
    if len(inputs) > 2:
        feeds[inputs[2]] = np.full((1, 1, 1, 1), 0.5, np.float32)
    frame = session.run(feeds)["frame"]
    m = CHECK_MARGIN
    return psnr(frame[..., m:-m, m:-m], truth[..., m:-m, m:-m], dtype=np.float64)


def _degrain_score(session: Any) -> float:
    """PSNR of degrain-small's result on its held-out photo with its evaluation grain (degrain.evaluate)."""
    from matchcut.models.zoo import degrain
    from matchcut.testing.photos import photo

    name, out = session.inputs[0].name, session.outputs[0].name
    return degrain.evaluate(lambda x: session.run({name: x})[out], photo(degrain.HELD_OUT, colorspace="srgb"))[1]


def check_quality(task: str, fp32: Path, fp16: Path, options: Any = None) -> tuple[float, float]:
    """(PSNR with fp32, PSNR with fp16) in dB of the two files on the task's check photo, both run by
    onnxruntime with ``options`` (a runtime DeviceOptions; default the CPU, whose kernels compute in fp32
    between fp16-rounded weights and casts, so the GPU tests check the GPU's own fp16 arithmetic again)."""
    from matchcut.runtime import DeviceOptions, create_session

    score = _interpolation_score if task == "interpolation" else _degrain_score
    options = options or DeviceOptions(provider="cpu")
    ref, half = (score(create_session(path, options)) for path in (fp32, fp16))
    return ref, half


def fp16_fields(model_id: str, task: str, fp32: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Build and check the fp16 variant of ``fp32`` (``<id>.fp16.onnx`` beside it); the runtime fields to
    merge into the manifest: fp16, fp16_file and fp16_sha256 when it passed, fp16_note (one line) always."""
    from matchcut.models.manifest import sha256_file

    if task != "interpolation" and model_id not in CHECKED_MODELS:
        return {"fp16": False, "fp16_note": f"stays fp32: no fp16 check for '{model_id}' (task '{task}'; variants "
                                            "are built for the full-resolution models, checked on a photo)"}
    out = fp32.with_name(f"{model_id}.fp16.onnx")
    try:
        kept = convert(fp32, out)
        ref_db, half_db = check_quality(task, fp32, out)
    except Exception as exc:  # the converter's and onnxruntime's own errors: the model stays fp32
        out.unlink(missing_ok=True)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        log(f"{model_id}: fp16 variant failed ({first}); keeping fp32")
        return {"fp16": False, "fp16_note": f"stays fp32: the fp16 conversion failed ({first})"}
    loss = ref_db - half_db
    grid = f", {len(kept)} sampling-grid nodes kept fp32" if kept else ""
    figures = f"PSNR {ref_db:.2f} dB fp32 -> {half_db:.2f} dB fp16 on the check photo (CPU check{grid})"
    if not loss < QUALITY_TOLERANCE_DB:
        out.unlink()
        log(f"{model_id}: fp16 variant loses {loss:.3f} dB; keeping fp32")
        return {"fp16": False, "fp16_note": f"stays fp32: fp16 loses {loss:.3f} dB (limit {QUALITY_TOLERANCE_DB} "
                                            f"dB): {figures}"}
    log(f"{model_id}: fp16 variant passed ({loss:+.3f} dB)")
    return {"fp16": True, "fp16_file": out.name, "fp16_sha256": sha256_file(out),
            "fp16_note": f"fp16 variant used on GPUs: {figures}, change {-loss:+.3f} dB"}
