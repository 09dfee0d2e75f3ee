"""Learn a fix from the artist's own frames: a small residual U-Net trained on pairs of original and corrected
frames, exported as a plain ONNX model with a manifest that `matchcut apply`, every host and a farm can run.

Modules (PyTorch is imported inside functions only, so importing these is cheap):
network (the residual U-Net, the log-like shaper for scene-linear plates, its receptive field),
pairs (the training pairs read from the plates: checks, the matte, where the pairs differ, the held-out pair),
training (crops, augmentation, losses, checkpoints, resume, early stop, cancel; the ``step`` events),
export (ONNX with dynamic size, checked against PyTorch on a frame; the manifest and its training summary).
"""
