"""scripts/bench_humanoid.py --eval-only on a tiny run dir: the per-pose row, the video, the page."""

import importlib.util
import json
from pathlib import Path

import pytest

from robrew.rewards.factory import RewardConfig
from robrew.runs import Algo, AlgoConfig, AlgoParams, TaskConfig, TrainConfig
from robrew.training.train import train

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_humanoid.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_humanoid", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_eval_only_reports_each_pose_with_a_video_and_a_page(tmp_path, capsys):
    cfg = TrainConfig(
        task=TaskConfig("humanoid_kneeling"),
        reward=RewardConfig(),
        algo=AlgoConfig(name=Algo.ppo, params=AlgoParams(n_steps=64, batch_size=64, n_epochs=1)),
        n_envs=1,
        total_timesteps=64,
        checkpoint_every=64,
        eval_every=64,
        eval_episodes=1,
        progress_bar=False,
    )
    train(cfg, tmp_path / "kneeling")
    bench = _bench()
    rows = bench.main(["--eval-only", "--poses", "kneeling", "--out", str(tmp_path), "--episodes", "2"])
    (row,) = rows
    assert row["pose"] == "kneeling" and row["success_rate"]["n"] == 2 and row["env_steps"] >= 64
    assert 0.0 <= row["mean_pose_score"] <= 1.0 and row["wall_time_s"] > 0
    assert (tmp_path / "videos" / "kneeling.mp4").stat().st_size > 1000
    assert json.loads((tmp_path / "results.json").read_text())["poses"][0]["pose"] == "kneeling"
    assert "kneeling" in (tmp_path / "report.html").read_text()
    assert "kneeling" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:  # a pose with no finished run: one line, exit 2, nothing trained
        bench.main(["--eval-only", "--poses", "standing", "--out", str(tmp_path)])
    assert e.value.code == 2
