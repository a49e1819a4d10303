"""The analyser's sampling rule, input checks, model errors and closing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from signlink.errors import ModelError
from signlink.quality.analyser import Analyser

BLANK = np.zeros((240, 320, 3), dtype=np.uint8)


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
def test_due_samples_ten_frames_a_second_whatever_the_camera_rate(analyser: Analyser, fps: float) -> None:
    analysed = []
    for index in range(round(3 * fps)):
        t = index / fps
        analyser.note_frame(t, 320, 240)
        if analyser.due(t):
            analyser.analyse(BLANK, t)
            analysed.append(t)
    assert len(analysed) == 30
    assert analyser.verdict().metrics["analysed_frames"] in (10, 11)


def test_a_frame_dropped_while_busy_leaves_the_slot_open(analyser: Analyser) -> None:
    analyser.analyse(BLANK, 0.0)
    assert not analyser.due(0.05)
    assert analyser.due(0.1)  # dropped (never analysed)...
    assert analyser.due(0.133)  # ...so the next frame of the slot is still wanted
    analyser.analyse(BLANK, 0.133)
    assert not analyser.due(0.166)


def test_a_clock_that_jumps_back_starts_sampling_again(analyser: Analyser) -> None:
    analyser.analyse(BLANK, 5.0)
    assert analyser.due(0.0)
    analyser.analyse(BLANK, 0.0)  # MediaPipe still gets increasing timestamps: no error


def test_rejects_pictures_that_are_not_rgb(analyser: Analyser) -> None:
    with pytest.raises(ValueError, match="RGB"):
        analyser.analyse(np.zeros((240, 320), dtype=np.uint8), 0.0)
    with pytest.raises(ValueError, match="RGB"):
        analyser.analyse(np.zeros((240, 320, 3), dtype=np.float32), 0.0)


def test_missing_model_is_a_model_error(tmp_path: Path, models: tuple[Path, Path]) -> None:
    with pytest.raises(ModelError, match="cannot load"):
        Analyser(tmp_path / "absent.task", models[1])
    with pytest.raises(ModelError, match="cannot load"):
        Analyser(models[0], tmp_path / "absent.tflite")
    corrupt = tmp_path / "corrupt.task"
    corrupt.write_bytes(b"PK not really a bundle")
    with pytest.raises(ModelError, match="cannot load"):
        Analyser(corrupt, models[1])


def test_close_is_idempotent_and_final(models: tuple[Path, Path]) -> None:
    analyser = Analyser(*models)
    with analyser:
        analyser.analyse(BLANK, 0.0)
    analyser.close()
    with pytest.raises(RuntimeError, match="closed"):
        analyser.analyse(BLANK, 0.1)
