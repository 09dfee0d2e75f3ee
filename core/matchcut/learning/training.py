"""Training a learned fix: crops weighted toward where the pairs differ, augmentation, the loss, the held-out
measure, checkpoints, resume, early stop, cancel and a NaN stop; every step reported as a ``step`` event.

Pixels are float32 (H, W, 3) in the plates' own values; ``shaped`` plates (scene-linear) are seen by the network
through ``network.shape``, and the loss and the held-out PSNR (peak 1) are measured in those shaped values, so
an error in the shadows counts as much as one in the highlights. PyTorch is imported inside the functions.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from matchcut.errors import InputError, MatchcutError, ProviderError, SettingError
from matchcut.learning.network import SIZE_MULTIPLE, make_network, shape
from matchcut.learning.pairs import Pair, difference_map

# OpenMP threads that spin while they wait starve each other on a busy machine (a 2-core one doing other work
# trained 2.6x slower with 2 threads than with 1; waiting passively, 1.3x). Set here, at import, because it only
# counts before torch is first imported, and the learn tool imports this module before it touches torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

LOSSES = ("l1", "l1+ssim")
DEVICES = ("auto", "cpu", "cuda")
#: Half the crops are centred where the pairs differ (by the blurred difference map), the rest anywhere.
FOCUSED = 0.5
#: Augmentation: exposure jitter (stops, either way) and per-channel gain jitter, the same on input and target.
EXPOSURE_JITTER = 0.25
COLOUR_JITTER = 0.03
#: The l1+ssim loss: this much of (1 - SSIM) beside the L1 term (SSIM's scale is about 10x L1's on plates).
SSIM_WEIGHT = 0.2
#: Early stop: no gain of EARLY_STOP_DB on the held-out pairs in PATIENCE measures.
EARLY_STOP_DB = 0.02
PATIENCE = 6
#: The loss weighs the pixels a pair changes (by more than CHANGED in the working values) as a group as much as the
#: whole crop: a small fix (a marker painted out: a few per cent of the pixels) is otherwise held at the identity the
#: network starts as by L1's pull on the unchanged pixels (chosen on the tuning half of docs/quality.md's learn run).
CHANGED = 0.01
#: The held-out measure reads at most this many windows of the crop size (half where the pairs differ most).
VALIDATION_WINDOWS = 8
#: The warm-up of the learning rate, a fraction of the steps; then a cosine decay to LR_FLOOR of it.
WARMUP = 0.05
LR_FLOOR = 0.05
CHECKPOINT = "checkpoint.pt"


class TrainingError(MatchcutError):
    """Training that cannot go on (the loss became NaN); the last good checkpoint is kept."""

    exit_code = 9


@dataclass(frozen=True)
class TrainSettings:
    """What changes a training run (and so its checkpoint's key), bar the pairs themselves."""

    steps: int = 1000
    crop: int = 128
    batch: int = 8
    loss: str = "l1"
    lr: float = 1e-3
    seed: int = 0
    eval_every: int = 100
    device: str = "auto"
    threads: int = 0  # CPU threads; 0: PyTorch's default

    def check(self) -> None:
        """SettingError naming the setting that is out of range."""
        if self.loss not in LOSSES:
            raise SettingError("loss", f"expected one of {', '.join(LOSSES)}, got {self.loss!r}", LOSSES)
        if self.device not in DEVICES:
            raise SettingError("device", f"training runs on {', '.join(DEVICES)} (PyTorch), got {self.device!r}",
                               DEVICES)
        for name, low in (("steps", 1), ("crop", 2 * SIZE_MULTIPLE), ("batch", 1), ("eval_every", 1)):
            if getattr(self, name) < low:
                raise SettingError(name, f"expected at least {low}, got {getattr(self, name)}")
        if self.crop % SIZE_MULTIPLE:
            raise SettingError("crop", f"expected a multiple of {SIZE_MULTIPLE} pixels, got {self.crop}")


@dataclass
class TrainResult:
    """How a run went: the best weights (on the held-out pairs) and the figures the manifest records."""

    state: dict  # the best network's state_dict
    best_step: int
    best_psnr: float  # dB on the held-out windows, in the working values
    before_psnr: float  # the same windows untouched (doing nothing)
    final_loss: float  # the running training loss at the last step
    steps_done: int
    stopped: str  # "steps", "early" (held-out stopped improving) or "cancelled"
    device: str
    seconds: float
    held_out: str  # which part was held out
    history: list = field(default_factory=list)  # (step, running loss, held-out PSNR)


def pick_device(requested: str) -> tuple[Any, str]:
    """(torch.device, one line saying which it got and why) for ``auto``, ``cpu`` or ``cuda``."""
    import torch

    if requested == "cpu":
        return torch.device("cpu"), "training on the CPU (asked for)"
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        return torch.device("cuda"), f"training on the GPU ({name})"
    if requested == "cuda":
        raise ProviderError("device 'cuda' was asked for, but PyTorch finds no CUDA GPU here; use --device cpu "
                            "or auto")
    return torch.device("cpu"), "training on the CPU (PyTorch finds no CUDA GPU)"


def learning_rate(settings: TrainSettings, step: int) -> float:
    """The rate at ``step`` (0-based): a linear warm-up, then a cosine to LR_FLOOR x lr at the last step."""
    warm = max(1, int(settings.steps * WARMUP))
    if step < warm:
        return settings.lr * (step + 1) / warm
    t = min(1.0, (step - warm) / max(1, settings.steps - warm))
    return settings.lr * (LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * t)))


def fitted_crop(pairs: list[Pair], crop: int) -> int:
    """The crop size that fits every training frame: ``crop``, or the smallest side rounded down to the multiple.

    Raises InputError when a frame is smaller than two multiples across (nothing a U-Net can learn from)."""
    side = min(min(p.input.shape[:2]) for p in pairs)
    fitted = min(crop, side - side % SIZE_MULTIPLE)
    if fitted < 2 * SIZE_MULTIPLE:
        raise InputError(f"frame {pairs[0].frame}: the training frames are {side} px on their short side; "
                         f"learning needs at least {2 * SIZE_MULTIPLE}")
    return fitted


class _Sampler:
    """Random training crops: positions weighted toward the change (FOCUSED of them), flips, jitter."""

    def __init__(self, pairs: list[Pair], crop: int, shaped: bool, seed: int) -> None:
        self.pairs, self.crop, self.shaped = pairs, crop, shaped
        self.rng = np.random.default_rng(seed)
        self.weights = []
        for p in pairs:
            h, w = p.input.shape[:2]
            dm = difference_map(p, shaped)[crop // 2:h - crop // 2 + 1, crop // 2:w - crop // 2 + 1]
            flat = dm.ravel().astype(np.float64)
            total = flat.sum()
            self.weights.append((dm.shape, None if total <= 0 else np.cumsum(flat) / total))

    def state(self) -> dict:
        return self.rng.bit_generator.state

    def restore(self, state: dict) -> None:
        self.rng.bit_generator.state = state

    def batch(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, goals) NCHW float32 in the plates' values (jittered, not yet shaped)."""
        c = self.crop
        xs, ys = [], []
        for _ in range(count):
            i = int(self.rng.integers(len(self.pairs)))
            p = self.pairs[i]
            (gh, gw), cum = self.weights[i]
            if cum is not None and self.rng.random() < FOCUSED:
                k = int(np.searchsorted(cum, self.rng.random()))
                y0, x0 = divmod(min(k, gh * gw - 1), gw)
            else:
                y0 = int(self.rng.integers(p.input.shape[0] - c + 1))
                x0 = int(self.rng.integers(p.input.shape[1] - c + 1))
            a = p.input[y0:y0 + c, x0:x0 + c]
            b = p.goal[y0:y0 + c, x0:x0 + c]
            if self.rng.random() < 0.5:
                a, b = a[:, ::-1], b[:, ::-1]
            if self.rng.random() < 0.5:
                a, b = a[::-1], b[::-1]
            gain = (2.0 ** self.rng.uniform(-EXPOSURE_JITTER, EXPOSURE_JITTER)
                    * (1.0 + self.rng.uniform(-COLOUR_JITTER, COLOUR_JITTER, 3))).astype(np.float32)
            if not self.shaped:  # display-referred values: the same jitter, a third as strong (about a gamma's worth)
                gain = gain ** np.float32(1 / 3)
            xs.append((a * gain).transpose(2, 0, 1))
            ys.append((b * gain).transpose(2, 0, 1))
        return np.ascontiguousarray(np.stack(xs)), np.ascontiguousarray(np.stack(ys))


def validation_windows(held: list[Pair], crop: int, shaped: bool) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, goals) NCHW float32 in the working values: up to VALIDATION_WINDOWS windows of the held-out pairs,
    half where they differ most, half spread evenly; the same windows at every measure."""
    xs, ys = [], []
    per = max(1, VALIDATION_WINDOWS // max(1, len(held)))
    for p in held:
        h, w = p.input.shape[:2]
        c = min(crop, h - h % SIZE_MULTIPLE, w - w % SIZE_MULTIPLE)
        if c < SIZE_MULTIPLE:
            continue
        dm = difference_map(p, shaped)[c // 2:h - c // 2 + 1, c // 2:w - c // 2 + 1]
        spots = []
        grid = max(1, int(math.ceil(math.sqrt(per - per // 2))))
        for gy in range(grid):
            for gx in range(grid):
                spots.append((int((h - c) * (gy + 0.5) / grid), int((w - c) * (gx + 0.5) / grid)))
        spots = spots[:per - per // 2]
        work = dm.copy()
        for _ in range(per // 2):
            k = int(np.argmax(work))
            y0, x0 = divmod(k, work.shape[1])
            if work[y0, x0] <= 0:
                break
            spots.append((y0, x0))
            work[max(0, y0 - c // 2):y0 + c // 2, max(0, x0 - c // 2):x0 + c // 2] = 0  # the next one elsewhere
        a, b = p.input, p.goal
        if shaped:
            a, b = shape(a), shape(b)
        for y0, x0 in spots:
            xs.append(a[y0:y0 + c, x0:x0 + c].transpose(2, 0, 1))
            ys.append(b[y0:y0 + c, x0:x0 + c].transpose(2, 0, 1))
    if not xs:
        raise InputError("the held-out part of the training frames is too small to measure the fix on")
    side = min(x.shape[1] for x in xs), min(x.shape[2] for x in xs)
    return (np.ascontiguousarray(np.stack([x[:, :side[0], :side[1]] for x in xs])),
            np.ascontiguousarray(np.stack([y[:, :side[0], :side[1]] for y in ys])))


def psnr_of(out: Any, goal: Any) -> float:
    """PSNR (dB, peak 1, capped at 100) of two torch tensors in the working values."""
    mse = float(((out - goal) ** 2).mean())
    return 100.0 if mse <= 1e-10 else min(100.0, 10.0 * math.log10(1.0 / mse))


def _ssim_loss(a: Any, b: Any) -> Any:
    """1 - mean SSIM (11 px Gaussian window, sigma 1.5; constants for a data range of 1), per channel."""
    import torch
    import torch.nn.functional as F

    g = torch.exp(-((torch.arange(11, dtype=a.dtype, device=a.device) - 5) ** 2) / (2 * 1.5 ** 2))
    g = (g / g.sum())[None, :]
    k = (g.T @ g).expand(a.shape[1], 1, 11, 11)

    def blur(x):  # noqa: ANN001, ANN202
        return F.conv2d(x, k, groups=a.shape[1])

    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ma, mb = blur(a), blur(b)
    va, vb, cov = blur(a * a) - ma ** 2, blur(b * b) - mb ** 2, blur(a * b) - ma * mb
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))
    return 1.0 - s.mean()


def change_weight(x: Any, goal: Any) -> Any:
    """Per-pixel loss weights (N, 1, H, W) for a batch (NCHW torch tensors in the working values): 1, plus 1 / (the
    changed share of the batch) where the goal differs from the input by more than CHANGED; mean 1."""
    changed = ((goal - x).abs().amax(dim=1, keepdim=True) > CHANGED).to(x.dtype)
    share = float(changed.mean())
    w = 1.0 + (changed / share if share > 0 else changed)
    return w / w.mean()


def loss_of(kind: str, out: Any, goal: Any) -> Any:
    """The training loss ``kind`` (LOSSES) between two NCHW torch tensors in the working values."""
    import torch.nn.functional as F

    l1 = F.l1_loss(out, goal)
    return l1 if kind == "l1" else l1 + SSIM_WEIGHT * _ssim_loss(out, goal)


def checkpoint_path(folder: Path) -> Path:
    """Where a model folder keeps its training checkpoint (a hidden subfolder, so the registry skips it)."""
    return Path(folder) / ".learn" / CHECKPOINT


def save_checkpoint(path: Path, data: dict) -> None:
    """Write ``data`` (tensors, numbers, text: what ``torch.load(weights_only=True)`` reads back) atomically."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(data, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict | None:
    """The checkpoint at ``path`` (tensors and plain values only: no pickle), or None when there is none."""
    import torch

    if not path.is_file():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file: say which, never run what it holds
        raise InputError(f"{path}: not a Matchcut training checkpoint ({type(exc).__name__}); remove it or train "
                         "with --force") from exc


def train(pairs: list[Pair], held: list[Pair], settings: TrainSettings, *, shaped: bool, folder: Path, key: str,
          held_out: str, emit: Callable[..., None], stop: Any = None, resume: bool = False,
          on_preview: Callable[[int, Any], Any] | None = None, preview_every: int = 0) -> TrainResult:
    """Train a FixNet on ``pairs``, measuring it on ``held`` every ``eval_every`` steps; returns the best weights.

    folder: the model folder (its checkpoint lives in ``.learn/``); key: what this training is (the checkpoint
    of another key is refused by the caller before); resume: carry on from the checkpoint. ``stop``: a
    threading.Event; when set, the step in hand ends, the checkpoint is written and the result says
    "cancelled". A loss that is not finite stops with TrainingError naming the step, the checkpoint kept as it
    was (the last good one). ``on_preview(step, run)``: called every ``preview_every`` steps (0: at every
    measure) with ``run(numpy (H, W, 3) plate values) -> numpy``, the network as it is; it returns the path it
    wrote, or None. Emits ``step`` (step, steps, loss, fraction; at a measure also psnr, psnr_before, best_step;
    with a preview, its path) and ``info``.
    """
    import torch

    settings.check()
    started = time.monotonic()
    device, said = pick_device(settings.device)
    emit("info", message=said)
    previous_threads = torch.get_num_threads()
    if settings.threads:
        torch.set_num_threads(settings.threads)
    try:
        torch.manual_seed(settings.seed)
        crop = fitted_crop(pairs, settings.crop)
        if crop != settings.crop:
            emit("warning", message=f"crops of {crop} px, not {settings.crop}: the frames are smaller")
        sampler = _Sampler(pairs, crop, shaped, settings.seed)
        vx, vy = (torch.from_numpy(a).to(device) for a in validation_windows(held, crop, shaped))
        before = psnr_of(vx, vy)
        net = make_network().to(device)
        opt = torch.optim.Adam(net.parameters(), lr=settings.lr)
        path = checkpoint_path(folder)
        start, best_psnr, best_step, best_state, history, running, bad = 0, before, 0, None, [], None, 0
        saved = load_checkpoint(path) if resume else None
        if saved is not None:
            net.load_state_dict(saved["net"])
            opt.load_state_dict(saved["opt"])
            sampler.restore(saved["sampler"])
            start, best_psnr, best_step = int(saved["step"]), float(saved["best_psnr"]), int(saved["best_step"])
            best_state = saved["best"] or None
            history = [tuple(h) for h in saved["history"]]
            running, bad = saved["running"], int(saved["bad"])
            emit("info", message=f"resumed at step {start} of {settings.steps} (best so far {best_psnr:.2f} dB on the "
                 f"held-out part at step {best_step})")
        elif resume:
            emit("info", message="no checkpoint to resume from: training from the start")
        emit("info", message=f"{len(pairs)} training pair(s), {held_out}; crops of {crop} px, batch {settings.batch}, "
             f"{settings.loss} loss; held-out part untouched: {before:.2f} dB")

        def snapshot(step: int) -> dict:
            return {"key": key, "step": step, "net": net.state_dict(), "opt": opt.state_dict(),
                    "sampler": sampler.state(), "best": best_state or {}, "best_psnr": best_psnr,
                    "best_step": best_step, "history": [list(h) for h in history], "running": running,
                    "bad": bad, "settings": asdict(settings)}

        def run_plate(image: np.ndarray) -> np.ndarray:
            return predict(net, image, shaped=shaped, device=device)

        stopped, step = "steps", start
        for step in range(start, settings.steps):
            if stop is not None and stop.is_set():
                stopped = "cancelled"
                break
            for group in opt.param_groups:
                group["lr"] = learning_rate(settings, step)
            xa, ya = sampler.batch(settings.batch)
            x, y = torch.from_numpy(xa).to(device), torch.from_numpy(ya).to(device)
            if shaped:
                x, y = shape(x), shape(y)
            net.train()
            w = change_weight(x, y)  # scaling both weighs L1 exactly (SSIM sees the same scaling on both)
            loss = loss_of(settings.loss, net(x) * w, y * w)
            value = float(loss.detach())
            if not math.isfinite(value):
                kept = (f"the last good checkpoint ({path}) is kept" if path.is_file()
                        else "no checkpoint was written before it")
                raise TrainingError(f"step {step + 1}: the training loss became {value}; {kept}; try a lower "
                                    "learning rate or check the plates for NaN or huge values")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running = value if running is None else 0.95 * running + 0.05 * value
            done = step + 1
            fields = {"step": done, "steps": settings.steps, "loss": round(running, 6),
                      "fraction": round(done / settings.steps, 6)}
            measure = done % settings.eval_every == 0 or done == settings.steps
            if measure:
                net.eval()
                with torch.no_grad():
                    score = psnr_of(net(vx), vy)
                history.append((done, round(running, 6), round(score, 3)))
                if score > best_psnr + EARLY_STOP_DB:
                    best_psnr, best_step, bad = score, done, 0
                    best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
                else:
                    bad += 1
                fields.update(psnr=round(score, 3), psnr_before=round(before, 3), best_step=best_step)
                save_checkpoint(path, snapshot(done))
            every = preview_every or settings.eval_every
            if on_preview is not None and (done % every == 0 or done == settings.steps):
                net.eval()
                written = on_preview(done, run_plate)
                if written:
                    fields["preview"] = str(written)
            emit("step", **fields)
            if measure and bad >= PATIENCE:
                stopped = "early"
                emit("info", message=f"stopped early at step {done}: the held-out part has not improved by "
                     f"{EARLY_STOP_DB} dB in {PATIENCE} measures (best {best_psnr:.2f} dB at step {best_step})")
                break
        else:
            step = settings.steps
        if stopped == "cancelled":
            save_checkpoint(path, snapshot(step))
        else:
            step = max(step + (0 if stopped == "steps" else 1), start)
        if best_state is None:  # nothing beat doing nothing: the model stays the identity it started as
            best_state = {k: v.detach().cpu().clone() for k, v in make_network().state_dict().items()}
        return TrainResult(state=best_state, best_step=best_step, best_psnr=best_psnr, before_psnr=before,
                           final_loss=float(running or 0.0), steps_done=min(step, settings.steps), stopped=stopped,
                           device=str(device), seconds=time.monotonic() - started, held_out=held_out,
                           history=history)
    finally:
        torch.set_num_threads(previous_threads)


def predict(net: Any, image: np.ndarray, *, shaped: bool, device: Any = None) -> np.ndarray:
    """The network on one frame: (H, W, 3) float32 plate values in, the same out (padded to the size multiple
    by reflection inside, cropped back)."""
    import torch
    import torch.nn.functional as F

    from matchcut.learning.network import unshape

    h, w = image.shape[:2]
    ph, pw = (-h) % SIZE_MULTIPLE, (-w) % SIZE_MULTIPLE
    x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))[None])
    if device is not None:
        x = x.to(device)
    with torch.no_grad():
        if shaped:
            x = shape(x)
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        y = net.eval()(x)[..., :h, :w]
        if shaped:
            y = unshape(y)
    return np.ascontiguousarray(y[0].cpu().numpy().transpose(1, 2, 0), dtype=np.float32)
