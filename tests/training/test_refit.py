"""Refitting a learned humanoid progress reward during PPO on the policy's own states: a tiny
end-to-end run (real MuJoCo humanoid, real SB3 PPO, real progress model), its per-round figures,
the refitted model saved in the run, evaluation and resume reading it, and one-line refusals."""

import csv
import json

import numpy as np
import pytest

from robrew.agents.ppo import PpoConfig, PpoParams
from robrew.data.demos import load_demos
from robrew.data.record import quality_mix, record_demos
from robrew.env_factory import make_env
from robrew.io import write_json_atomic
from robrew.rewards import load_reward_model, save_reward_model
from robrew.rewards.factory import RefitConfig, RewardConfig
from robrew.runs import ConfigError, TaskConfig, TrainConfig
from robrew.taskspec import load_task
from robrew.training.progress import ProgressTrainConfig, fit_progress_model, refit_progress
from robrew.training.train import train

TASK = """name: humanoid_standing_short
description: stand for 15 of 20 steps
env_id: robrew/HumanoidPose-v0
env_kwargs: {pose: standing, horizon: 20, success_fraction: 0.75}
goal_prompts: ["a humanoid robot standing up"]
baseline_prompts: ["a humanoid robot"]
horizon: 20
success: {kind: info_is_success}
tags: [humanoid, pose]
"""


@pytest.fixture(scope="module")
def learned_standing(tmp_path_factory):
    """(task file, progress model dir): 8 episodes of a standing humanoid (zero torque, clean, and
    random actions, failing), flagged by the env, and a progress model fitted on them."""
    root = tmp_path_factory.mktemp("refit")
    task = root / "standing_short.yaml"
    task.write_text(TASK)
    spec = load_task(task)
    space = make_env(spec).action_space
    mix = quality_mix(lambda obs: np.zeros(space.shape, np.float32), space, {"clean": 4, "failing": 4}, seed=1)
    data = record_demos(lambda render: make_env(spec), None, root / "data", "standing_short", episodes=8, mix=mix)
    demos = load_demos(data)
    assert any(d.success for d in demos) and not all(d.success for d in demos)
    model, report = fit_progress_model(demos, ProgressTrainConfig(steps=60, hidden=32, infer_departures=False))
    out = save_reward_model(model, root / "progress")
    report["data"] = str(data)
    write_json_atomic(out / "report.json", report)
    return task, out


def _cfg(task, reward: RewardConfig) -> TrainConfig:
    return TrainConfig(
        task=TaskConfig(name="humanoid_standing_short", path=str(task)),
        reward=reward,
        algo=PpoConfig(params=PpoParams(n_steps=32, batch_size=64, n_epochs=1)),
        n_envs=2,
        total_timesteps=192,
        checkpoint_every=128,
        eval_every=128,
        eval_episodes=2,
        progress_bar=False,
        torch_threads=1,
    )


def test_refit_lowers_the_score_of_the_policys_states(learned_standing):
    """One round on a policy's states labelled "no progress" scores those states lower than before."""
    task, ckpt = learned_standing
    model = load_reward_model(ckpt)
    demos = load_demos(json.loads((ckpt / "report.json").read_text())["data"])
    rng = np.random.default_rng(0)
    fallen = [
        np.stack([d.observations[-1] + 0.01 * rng.standard_normal(d.observations.shape[1]) for _ in range(20)])
        for d in demos
        if not d.success
    ][:2]
    before = float(np.concatenate([model.score_episode(obs=s, instructions="") for s in fallen]).mean())
    refit_progress(model, demos, fallen, steps=100, cfg=ProgressTrainConfig(lr=3e-3))
    after = float(np.concatenate([model.score_episode(obs=s, instructions="") for s in fallen]).mean())
    assert after < before - 0.05, (before, after)


def test_ppo_on_a_refitted_learned_reward_end_to_end(learned_standing, tmp_path):
    task, ckpt = learned_standing
    reward = RewardConfig(name="progress", checkpoint=str(ckpt), refit=RefitConfig(every=64, steps=20))
    run = tmp_path / "run"
    metrics = train(_cfg(task, reward), run)
    assert metrics["num_timesteps"] == 192
    rows = list(csv.DictReader((run / "refit.csv").open()))
    assert [int(r["timesteps"]) for r in rows] == [64, 128, 192]
    assert all(0.0 <= float(r["policy_score"]) <= 1.0 and 0.0 <= float(r["demo_score"]) <= 1.0 for r in rows)
    assert all(int(r["negative_frames"]) > 0 for r in rows)
    curve = list(csv.DictReader((run / "curve.csv").open()))  # the watch logs both returns
    assert curve and all(np.isfinite(float(r["model_return"])) and r["success_rate"] != "" for r in curve)
    refitted = load_reward_model(run / "reward_refit")
    original = load_reward_model(ckpt)
    changed = [k for k, v in refitted.trainable_state().items() if not np.array_equal(v, original.trainable_state()[k])]
    assert changed  # the run's reward moved away from the checkpoint, which is untouched
    from robrew.runs import load_run_config, run_reward_model

    cfg = load_run_config(run)
    assert cfg.reward.refit.every == 64
    reread = run_reward_model(cfg, load_task(task), run)
    for k, v in refitted.trainable_state().items():
        np.testing.assert_array_equal(reread.trainable_state()[k], v)


def test_refit_refuses_in_one_line_before_writing(learned_standing, tmp_path):
    task, ckpt = learned_standing
    bad = [
        (RewardConfig(refit=RefitConfig(every=64)), "retrains a learned progress model"),
        (RewardConfig(name="progress", checkpoint=str(ckpt), refit=RefitConfig(every=64, steps=0)), "steps"),
        (
            RewardConfig(
                name="progress", checkpoint=str(ckpt), refit=RefitConfig(every=64, demos=str(tmp_path / "no"))
            ),
            "no",
        ),
    ]
    for reward, words in bad:
        run = tmp_path / "run"
        with pytest.raises(ConfigError, match=words) as e:
            train(_cfg(task, reward), run)
        assert "\n" not in str(e.value) and not run.exists()


def test_obs_ranges_make_the_model_blind_to_the_rest(learned_standing):
    """A model told to read the humanoid's pose (the first 22 values) scores the same whatever the
    velocities and contact forces say."""
    task, ckpt = learned_standing
    demos = load_demos(json.loads((ckpt / "report.json").read_text())["data"])
    cfg = ProgressTrainConfig(steps=20, hidden=32, infer_departures=False, obs_ranges="0:22")
    model, _ = fit_progress_model(demos, cfg)
    obs = demos[0].observations
    moved = obs.copy()
    moved[:, 22:] += np.random.default_rng(0).normal(0, 5, size=moved[:, 22:].shape)
    np.testing.assert_array_equal(model.score(obs=obs, instructions=""), model.score(obs=moved, instructions=""))
    posed = obs.copy()
    posed[:, :22] += 0.5
    assert not np.array_equal(model.score(obs=obs, instructions=""), model.score(obs=posed, instructions=""))
    with pytest.raises(ValueError, match="select none"):
        fit_progress_model(demos, ProgressTrainConfig(steps=2, obs_ranges="400:500"))


@pytest.mark.parametrize(
    "task, words",
    [
        ("tabletop_reach", "reads observations of width 348, got width"),  # another env's width
        ("tabletop_reach_goal", "but these are a Dict"),  # flat model, Dict env
    ],
)
def test_a_reward_model_that_cannot_read_the_env_is_one_line_before_training(learned_standing, tmp_path, task, words):
    _, ckpt = learned_standing
    cfg = _cfg(task, RewardConfig(name="progress", checkpoint=str(ckpt)))
    cfg.task = TaskConfig(task)
    with pytest.raises(ConfigError, match=words) as e:
        train(cfg, tmp_path / "run")
    assert "\n" not in str(e.value) and "cannot score" in str(e.value) and not (tmp_path / "run").exists()
