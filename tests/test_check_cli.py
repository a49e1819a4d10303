"""`signlink check VIDEO [--json]`: exit 0 on pass, 1 on fail, 2 on an unreadable file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from signlink.cli import main
from signlink.config import PROJECT_ROOT
from signlink.quality.verdict import Criterion
from tests.quality.encoded import GOOD, EncodedClips


def test_passing_clip_exits_0_with_a_readable_summary(
    media: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A signer head to waist through VP8 at 800 kbps (the old clip, a head-and-shoulders close-up,
    now fails framing with "move back", as it should)."""
    clip = EncodedClips(media, tmp_path).path(GOOD["VP8 800 kbps"])
    code = main(["check", str(clip)])
    out = capsys.readouterr().out
    assert code == 0
    assert "PASSED" in out
    for criterion in Criterion:
        assert criterion.value in out


def test_failing_clip_exits_1_and_says_what_to_do(media: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(media / "videos/tfjs_person_far_in_room_4s.mp4")])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED" in out
    assert "Move closer to the camera." in out  # the far face is found: the cause, not "raise your hands"


def test_json_report(media: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = media / "videos/tfjs_person_far_in_room_4s.mp4"
    code = main(["check", "--json", str(clip)])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert set(report) == {"file", "media_s", "passed", "complete", "criteria", "metrics"}
    assert report["file"] == str(clip)
    assert report["passed"] is False and report["complete"] is True
    assert [c["criterion"] for c in report["criteria"]] == [c.value for c in Criterion]
    for item in report["criteria"]:
        assert set(item) == {"criterion", "status", "value", "threshold", "label", "advice", "message"}
        assert item["status"] in {"pass", "fail", "pending", "not_measured"}
        assert set(item["message"]) == {"en", "zh-CN"}
    statuses = {c["criterion"]: c["status"] for c in report["criteria"]}
    assert statuses["hands"] == "fail" and statuses["resolution"] == "pass"
    assert report["metrics"]["width"] == 576 and report["metrics"]["fps"] == pytest.approx(30.0)


@pytest.mark.parametrize("kind", ["missing", "not a video", "a folder"])
def test_unreadable_input_exits_2_with_one_clear_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], kind: str
) -> None:
    path = {"missing": tmp_path / "nothing.mp4", "not a video": tmp_path / "junk.mp4", "a folder": tmp_path}[
        kind
    ]
    if kind == "not a video":
        path.write_bytes(b"\x00\x01 this is not a video " * 100)
    code = main(["check", str(path)])
    out, err = capfd.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("signlink: ") and str(path) in err
    assert "Traceback" not in err


def test_unreadable_file_exit_status_of_the_real_command(tmp_path: Path) -> None:
    junk = tmp_path / "clip.mp4"
    junk.write_text("not a video")
    done = subprocess.run(
        [sys.executable, "-m", "signlink", "check", str(junk)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"signlink: cannot read {junk}: Invalid data found when processing input"
