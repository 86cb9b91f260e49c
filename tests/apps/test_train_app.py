"""robrew-train / robrew-eval / robrew-plot end to end, through the real console scripts."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

BIN = Path(sys.executable).parent
TINY = ["progress_bar=false", "checkpoint_every=256", "eval_every=256", "eval_episodes=2"]
TINY_SAC = ["algo.params.learning_starts=100", "algo.params.buffer_size=5000", "algo.params.batch_size=64"]


def run(args, cwd, timeout=300, check=True):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [str(BIN / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )
    if check:
        assert out.returncode == 0, out.stderr[-3000:]
    return out


def assert_run_files(run_dir: Path, algo: str):
    for name in ("config.yaml", "command.txt", "reward.json", "curve.csv", "metrics.json", "checkpoints/latest.json"):
        assert (run_dir / name).is_file(), name
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert cfg["algo"]["name"] == algo
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["num_timesteps"] >= 512 and 0 <= metrics["final_eval"]["success_rate"]["mean"] <= 1
    latest = json.loads((run_dir / "checkpoints/latest.json").read_text())
    ckpt = run_dir / "checkpoints" / latest["checkpoint"]
    assert (ckpt / "learner.safetensors").is_file() and not list(ckpt.glob("*.zip")) and not list(ckpt.glob("*.pkl"))
    if algo == "sac":
        assert (ckpt / "replay.npz").is_file()
    assert list((run_dir / "tb").rglob("events.out.tfevents.*"))
    assert len((run_dir / "curve.csv").read_text().splitlines()) >= 2


def assert_eval_files(out: Path, with_model_reward: bool):
    result = json.loads((out / "eval.json").read_text())
    assert result["episodes"] == 2 and {"mean", "low", "high", "n"} <= set(result["success_rate"])
    assert (result["model_return"] is not None) == with_model_reward
    assert (out / "episode_00.mp4").stat().st_size > 1000
    assert (out / "reward_over_time.png").read_bytes()[:4] == b"\x89PNG"
    page = (out / "report.html").read_text()
    assert "data:video/mp4;base64," in page and "data:image/png;base64," in page


@pytest.mark.parametrize(
    "task, algo, extra",
    [
        ("tabletop_pick_place", "ppo", ["algo.params.n_steps=128", "algo.params.batch_size=64"]),
        ("tabletop_push", "sac", [*TINY_SAC, "normalize=true"]),
        ("humanoid_kneeling", "ppo", ["algo.params.n_steps=128", "algo.params.batch_size=64", "n_envs=2"]),
        ("humanoid_standing", "sac", [*TINY_SAC, "n_envs=2"]),
    ],
)
@pytest.mark.heavy
def test_train_then_eval(tmp_path, task, algo, extra, run_clis):
    train = [
        "robrew-train",
        f"task={task}",
        f"algo={algo}",
        "total_timesteps=512",
        f"run_dir={tmp_path}/run",
        *TINY,
        *extra,
    ]
    out, evaluated = run_clis(  # one interpreter: the second reads only what the first wrote to disk
        [(train, tmp_path), (["robrew-eval", tmp_path / "run", "--episodes", "2", "--videos", "1"], tmp_path)]
    )
    assert out.returncode == 0 and "true success" in out.stdout, out.stderr[-3000:]
    assert_run_files(tmp_path / "run", algo)
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    normalised = "normalize=true" in extra or (task.startswith("humanoid") and algo == "ppo")  # family default
    assert saved["normalize"] is normalised  # the decided value is saved, never null
    assert bool(list((tmp_path / "run" / "checkpoints").glob("step_*/normalizer.npz"))) == normalised
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert_eval_files(tmp_path / "run" / "eval", with_model_reward=False)


@pytest.mark.heavy
def test_clip_rewarded_humanoid_run_end_to_end(tmp_path, tiny_clip_dir, run_clis):
    """The VLM-RM experiment's command at a tiny budget, with a local random CLIP: SAC on
    humanoid_kneeling from the CLIP reward, checkpoints, resume, evaluation and report."""
    run_dir = tmp_path / "run"
    args = [
        "robrew-train",
        "task=humanoid_kneeling",
        "reward=clip",
        f"reward.kwargs.pretrained={tiny_clip_dir}",
        "algo=sac",
        "algo.params.learning_starts=64",
        "algo.params.buffer_size=2000",
        "algo.params.batch_size=64",
        "total_timesteps=192",
        "n_envs=2",
        "checkpoint_every=96",
        "eval_every=96",
        "eval_episodes=1",
        "progress_bar=false",
        f"run_dir={run_dir}",
    ]
    run(args, tmp_path)
    reward = json.loads((run_dir / "reward.json").read_text())
    assert reward["name"] == "clip" and reward["config"]["goal_prompts"] == ["a humanoid robot kneeling"]
    assert reward["config"]["pretrained"] == str(tiny_clip_dir)
    first = json.loads((run_dir / "metrics.json").read_text())
    curve = (run_dir / "curve.csv").read_text().splitlines()
    assert first["num_timesteps"] >= 192 and len(curve) >= 3  # header + an eval per 96 steps
    assert np.isfinite(float(curve[-1].split(",")[3]))  # the CLIP return is logged next to the true success
    out, evaluated = run_clis(  # a fresh interpreter, which resumes from disk
        [
            (["robrew-train", f"resume={run_dir}", "total_timesteps=320"], tmp_path),
            (["robrew-eval", run_dir, "--episodes", "2", "--videos", "1"], tmp_path),
        ]
    )
    assert out.returncode == 0 and "resumed from step_" in out.stdout, out.stderr[-3000:]
    assert json.loads((run_dir / "metrics.json").read_text())["num_timesteps"] >= 320
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert_eval_files(run_dir / "eval", with_model_reward=True)
    assert json.loads((run_dir / "eval" / "eval.json").read_text())["num_timesteps"] >= 320


def wait_for_checkpoint(run_dir: Path, proc, timeout=120):
    start = time.time()
    while not (run_dir / "checkpoints/latest.json").is_file():
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() - start < timeout, "no checkpoint in time"
        time.sleep(0.2)
    return json.loads((run_dir / "checkpoints/latest.json").read_text())["num_timesteps"]


@pytest.mark.heavy
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_run_resumes(tmp_path, sig):
    run_dir = tmp_path / "run"
    args = [
        str(BIN / "robrew-train"),
        "task=tabletop_reach",
        "total_timesteps=60000",
        f"run_dir={run_dir}",
        "progress_bar=false",
        "checkpoint_every=1024",
        "eval_every=100000",
        "eval_episodes=0",
        "++algo.params.n_steps=256",
    ]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = wait_for_checkpoint(run_dir, proc)
    proc.send_signal(sig)
    stdout, _ = proc.communicate(timeout=120)
    saved = json.loads((run_dir / "checkpoints/latest.json").read_text())["num_timesteps"]
    assert saved >= first
    if sig == signal.SIGTERM:
        assert "stopped by signal" in stdout and saved > first  # saved on the way out
    assert not list((run_dir / "checkpoints").glob(".tmp-*")) or sig == signal.SIGKILL
    # Resume with a smaller total so the test stays short: the saved config is edited like a user would.
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    cfg["total_timesteps"] = saved + 2048
    (run_dir / "config.yaml").write_text(yaml.safe_dump(cfg))
    out = run(["robrew-train", f"resume={run_dir}"], tmp_path)
    assert f"resumed from step_{saved:010d} at step {saved}" in out.stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["resumed_from_step"] == saved and metrics["num_timesteps"] >= saved + 2048
    latest = json.loads((run_dir / "checkpoints/latest.json").read_text())["checkpoint"]
    saved = json.loads((run_dir / "checkpoints" / latest / "learner.json").read_text())
    assert saved["counters"]["num_timesteps"] == metrics["num_timesteps"]


NO_RENDER_TASK = {
    "name": "no_render",
    "env_id": "robrew.testing:robrew-testing/NoRender-v0",
    "goal_prompts": ["a goal"],
    "baseline_prompts": ["a scene"],
    "horizon": 5,
}


BAD_CONFIGS = [
    (["task=nope"], "Could not find 'task/nope'"),
    (["reward=nope"], "Could not find 'reward/nope'"),
    (["reward.name=bogus"], "unknown reward model 'bogus'"),
    (["total_timesteps=-5"], "total_timesteps must be positive, got -5"),
    (["task.path={no_render}", "reward=clip", "reward.kwargs.pretrained={clip}"], "needs frames but env"),
]


@pytest.fixture(scope="module")
def bad_config_runs(tmp_path_factory, tiny_clip_dir, run_clis):
    """Each of :data:`BAD_CONFIGS` as ``robrew-train`` in a directory of its own: (the
    directory, what the command did)."""
    cases = []
    for overrides, _ in BAD_CONFIGS:
        cwd = tmp_path_factory.mktemp("bad_config")
        task_file = cwd / "no_render.yaml"
        task_file.write_text(yaml.safe_dump(NO_RENDER_TASK))
        args = [o.format(no_render=task_file, clip=tiny_clip_dir) for o in overrides]
        cases.append((["robrew-train", *args, f"run_dir={cwd}/run", "progress_bar=false"], cwd))
    return [(cwd, out) for (_, cwd), out in zip(cases, run_clis(cases))]


@pytest.mark.parametrize("case", range(len(BAD_CONFIGS)), ids=[m for _, m in BAD_CONFIGS])
def test_bad_configs_fail_before_training(bad_config_runs, case):
    message = BAD_CONFIGS[case][1]
    cwd, out = bad_config_runs[case]
    assert out.returncode != 0
    assert message in out.stderr, out.stderr[-2000:]
    assert not (cwd / "run" / "checkpoints").exists()
    if "robrew-train: error:" in out.stderr:
        assert len(out.stderr.strip().splitlines()) == 1


def test_plot_aggregates_runs(tmp_path):
    from robrew.apps.plot import main
    from robrew.eval.curves import aggregate

    runs = []
    for seed, offset in enumerate((0.0, 0.2, 0.4)):
        d = tmp_path / f"run{seed}"
        d.mkdir()
        (d / "curve.csv").write_text(
            f"timesteps,success_rate,env_return\n0,0.0,0\n1000,{offset:f},1\n2000,{2 * offset:f},2\n"
        )
        runs.append(d)
    from robrew.eval.curves import read_curve

    agg = aggregate([read_curve(r) for r in runs], "success_rate", points=3)
    assert agg["mean"][-1] == pytest.approx(0.4)
    from scipy import stats

    half = stats.t.ppf(0.975, 2) * 0.4 / (3**0.5)  # std (ddof=1) of 0, .4, .8 is .4
    assert agg["high"][-1] - agg["mean"][-1] == pytest.approx(half)
    main([*map(str, runs), "--out", str(tmp_path / "c.png"), "--group-by", "none"])
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
