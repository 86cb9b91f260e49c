"""scripts/bench_humanoid.py --eval-only on a tiny run dir: the per-pose row, the video, the page."""

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_humanoid.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_humanoid", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_eval_only_reports_each_pose_with_a_video_and_a_page(tmp_path, capsys, tiny_humanoid_run):
    shutil.copytree(tiny_humanoid_run, tmp_path / "runs" / "kneeling")
    bench = _bench()
    rows = bench.main(["--eval-only", "--poses", "kneeling", "--out", str(tmp_path), "--episodes", "2"])
    (row,) = rows
    assert row["pose"] == "kneeling" and row["success_rate"]["n"] == 2 and row["env_steps"] >= 64
    assert 0.0 <= row["mean_pose_score"] <= 1.0 and row["wall_time_s"] > 0
    assert (tmp_path / "videos" / "kneeling.mp4").stat().st_size > 1000
    assert json.loads((tmp_path / "results.json").read_text())["poses"][0]["pose"] == "kneeling"
    assert "kneeling" in (tmp_path / "report.html").read_text()
    out = capsys.readouterr().out
    assert "kneeling" in out and f"--policies {tmp_path / 'runs' / 'kneeling'}" in out
    with pytest.raises(SystemExit) as e:  # a pose with no finished run: one line, exit 2, nothing trained
        bench.main(["--eval-only", "--poses", "standing", "--out", str(tmp_path)])
    assert e.value.code == 2
