"""The main job end to end on a tiny budget, and BC policy save/load."""

import json

import numpy as np
import pytest

from robrew.jobs.rabc import RabcExperimentConfig, banner, format_table, run_rabc_experiment
from robrew.training.bc import BCConfig, BCPolicy, load_policy, save_policy
from robrew.training.progress import ProgressTrainConfig


@pytest.mark.heavy
def test_main_job_runs_end_to_end(tmp_path):
    cfg = RabcExperimentConfig(
        episodes=6,
        image_size=16,
        progress=ProgressTrainConfig(steps=30),
        bc=BCConfig(steps=30, chunk=4),
        eval_episodes=2,
        methods=["none", "rabc", "return"],
        out_dir=str(tmp_path / "run"),
    )
    lines: list[str] = []
    result = run_rabc_experiment(cfg, on_phase=lines.append)
    assert set(result["policies"]) == {"none", "rabc", "return"}
    # one line per phase as it finishes, with its time and what it made
    assert [line.split()[0] for line in lines] == ["demos", "progress", "BC", "RA-BC", "return-weighted"]
    assert "6 episodes" in lines[0] and "30 steps" in lines[1] and "2 episodes" in lines[2]
    assert result["policies"]["none"]["mean_weight"] == 1.0
    assert 0.0 <= result["policies"]["rabc"]["mean_weight"] <= 1.0
    for p in result["policies"].values():
        assert p["success_rate"]["n"] == 2
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["dataset"]["episodes"] == 6
    assert (tmp_path / "run" / "report.html").stat().st_size > 10_000  # plots and a video inlined
    assert (tmp_path / "run" / "progress_model" / "reward_model.json").is_file()
    policy = load_policy(tmp_path / "run" / "policies" / "rabc")
    assert policy.chunk == cfg.bc.chunk == 4
    table = format_table(result)
    assert "RA-BC" in table and "VOC" in table


def test_bad_methods_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="methods"):
        run_rabc_experiment(RabcExperimentConfig(methods=["vibes"], out_dir=str(tmp_path)))
    ensemble = ProgressTrainConfig(members=3)
    with pytest.raises(ValueError, match="progress.members=3: RA-BC weights"):
        run_rabc_experiment(RabcExperimentConfig(progress=ensemble, out_dir=str(tmp_path / "out")))
    for episodes in (2, -1):  # 0 is the task's own count; anything else needs 4 demos to split
        with pytest.raises(ValueError, match="episodes must be >= 4"):
            run_rabc_experiment(RabcExperimentConfig(episodes=episodes, out_dir=str(tmp_path / "out")))
    assert not (tmp_path / "out").exists()  # rejected before anything is written


def test_policy_round_trip_and_corrupt_file(tmp_path):
    policy = BCPolicy(obs_dim=5, act_dim=2, hidden=16, chunk=3)
    save_policy(policy, tmp_path / "p")
    loaded = load_policy(tmp_path / "p")
    obs = np.random.default_rng(0).normal(size=5).astype(np.float32)
    np.testing.assert_allclose(loaded.act(obs), policy.act(obs), atol=1e-6)
    (tmp_path / "p" / "policy.safetensors").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="corrupt BC policy"):
        load_policy(tmp_path / "p")
    with pytest.raises(ValueError, match="missing"):
        load_policy(tmp_path / "nothing")


def test_banner_names_a_reused_dataset_not_the_episode_count():
    assert "150 mixed demos of tabletop_pick_place" in banner(RabcExperimentConfig())
    reused = banner(RabcExperimentConfig(data_dir="data/robrew/tabletop_pick_place/expert-mixed-v0"))
    assert "demos from data/robrew/tabletop_pick_place/expert-mixed-v0" in reused and "150" not in reused


def test_the_task_file_sets_the_demo_count_unless_the_job_does(tmp_path):
    """A task's ``demos`` is the job's default demo count; ``episodes`` overrides it; else 150."""
    from pathlib import Path

    import yaml

    from robrew.jobs.rabc import job_episodes
    from robrew.taskspec import load_task

    assert load_task("tabletop_push").demos == 450 and load_task("tabletop_pick_place").demos == 0
    assert (job_episodes("tabletop_push"), job_episodes("tabletop_pick_place")) == (450, 150)
    assert job_episodes("tabletop_push", 60) == 60
    spec = yaml.safe_load(Path(load_task("tabletop_reach").source).read_text())
    path = tmp_path / "reach_small.yaml"
    path.write_text(yaml.safe_dump({**spec, "name": "reach_small", "demos": 12}))
    assert job_episodes(str(path)) == 12
    assert "12 mixed demos" in banner(RabcExperimentConfig(task=str(path)))
    assert "450 mixed demos of tabletop_push" in banner(RabcExperimentConfig(task="tabletop_push"))


def test_demos_that_do_not_fit_the_task_are_one_line_before_anything_trains(tmp_path):
    """Flat demos for a Dict-observation task: one line naming both sides, exit 2, no output dir."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from robrew.data.demos import DatasetError
    from robrew.data.record import record_demos
    from robrew.env_factory import make_env

    data = record_demos(
        lambda render: make_env("tabletop_reach"), lambda obs: np.zeros(4, np.float32), tmp_path, "flat", episodes=2
    )
    out = tmp_path / "out"
    with pytest.raises(DatasetError, match="the demos' observations are flat arrays but task tabletop_reach_goal's"):
        run_rabc_experiment(RabcExperimentConfig(task="tabletop_reach_goal", data_dir=str(data), out_dir=str(out)))
    assert not out.exists()
    cli = subprocess.run(
        [
            str(Path(sys.executable).parent / "robrew-rabc"),
            "task=tabletop_reach_goal",
            f"data_dir={data}",
            f"out_dir={out}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert cli.returncode == 2 and len(cli.stderr.strip().splitlines()) == 1, cli.stderr[-2000:]
    assert cli.stderr.startswith("robrew-rabc: error: the demos' observations are flat arrays") and not out.exists()
