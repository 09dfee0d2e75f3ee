"""Model manifests, the model search path and the model zoo (import-light: no onnx or onnxruntime here)."""

from matchcut.models.manifest import (
    Control,
    DataFile,
    ModelManifest,
    RuntimeInfo,
    SourceInfo,
    TensorSpec,
    dump_manifest,
    load_manifest,
    manifest_from_dict,
    sha256_file,
    write_manifest,
)
from matchcut.models.registry import find_model, list_models, scan_models, search_paths, verify_model

__all__ = [
    "Control",
    "DataFile",
    "ModelManifest",
    "RuntimeInfo",
    "SourceInfo",
    "TensorSpec",
    "dump_manifest",
    "find_model",
    "list_models",
    "load_manifest",
    "manifest_from_dict",
    "scan_models",
    "search_paths",
    "sha256_file",
    "verify_model",
    "write_manifest",
]
