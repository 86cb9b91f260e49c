"""Residual RL fine-tuning of robrew-rabc's RA-BC policy: the base policy is loaded bit-exactly,
a zero correction is exactly the RA-BC policy, and `finetune=<rabc dir>` trains, checkpoints,
evaluates and resumes."""

import dataclasses

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from robrew.apps.rabc import RabcExperimentConfig, run_rabc_experiment
from robrew.bc_policy import load_policy
from robrew.env_factory import make_env
from robrew.eval.evaluate import evaluate_run
from robrew.residual import ResidualAction
from robrew.rewards.factory import RewardConfig
from robrew.runs import (
    Algo,
    AlgoConfig,
    AlgoParams,
    ConfigError,
    TaskConfig,
    TrainConfig,
    latest_checkpoint,
    load_run_config,
    make_run_env,
    resolve_task,
)
from robrew.training.bc import BCConfig
from robrew.training.progress import ProgressTrainConfig
from robrew.training.train import train

TASK = "tabletop_reach"


@pytest.fixture(scope="module")
def rabc_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("rabc")
    cfg = RabcExperimentConfig(
        task=TASK,
        episodes=8,
        image_size=16,
        progress=ProgressTrainConfig(steps=30, hidden=32),
        bc=BCConfig(steps=60, hidden=32, chunk=4),
        eval_episodes=1,
        videos=0,
        out_dir=str(out),
    )
    run_rabc_experiment(cfg)
    return out


def finetune_cfg(rabc_dir, **kw) -> TrainConfig:
    base = dict(
        task=TaskConfig(TASK),
        reward=RewardConfig(composition="delta"),
        algo=AlgoConfig(name=Algo.sac, params=AlgoParams(learning_starts=50, buffer_size=1000, batch_size=32)),
        n_envs=1,
        total_timesteps=120,
        checkpoint_every=60,
        eval_every=60,
        eval_episodes=1,
        progress_bar=False,
        finetune=str(rabc_dir),
    )
    return TrainConfig(**{**base, **kw})


def test_a_zero_correction_is_the_rabc_policy_exactly(rabc_dir):
    policy = load_policy(rabc_dir / "policies" / "rabc")
    env = ResidualAction(make_env(TASK), policy, scale=0.3)
    reference, actor = make_env(TASK), load_policy(rabc_dir / "policies" / "rabc").actor()
    obs, _ = env.reset(seed=3)
    ref_obs, _ = reference.reset(seed=3)
    actor.reset()
    for _ in range(15):
        action = actor(ref_obs).astype(np.float32)
        obs, *_, info = env.step(np.zeros(4, np.float32))
        ref_obs, *_ = reference.step(action)
        np.testing.assert_array_equal(info["base_action"], action)
        np.testing.assert_array_equal(obs, ref_obs)
    # A correction moves the action by scale * a (clipped to the action range).
    probe = ResidualAction(make_env(TASK), policy, scale=0.3)
    probe.reset(seed=4)
    sent = []
    probe.env.step = lambda a: (sent.append(a), reference.step(a))[1]
    *_, info = probe.step(np.array([1.0, -1.0, 0.5, 0.0], np.float32))
    expected = np.clip(info["base_action"] + 0.3 * np.array([1.0, -1.0, 0.5, 0.0], np.float32), -1, 1)
    np.testing.assert_allclose(sent[0], expected, rtol=0, atol=1e-7)
    # A penalty prices the correction into the env reward: reward - penalty * mean(a^2).
    priced = ResidualAction(make_env(TASK), policy, scale=0.3, penalty=2.0)
    plain = ResidualAction(make_env(TASK), policy, scale=0.3)
    priced.reset(seed=5)
    plain.reset(seed=5)
    a = np.array([0.5, -0.5, 1.0, 0.0], np.float32)
    (_, r_priced, *_, info), (_, r_plain, *_) = priced.step(a), plain.step(a)
    assert r_priced == pytest.approx(r_plain - 2.0 * 0.375) and info["residual_cost"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="acts in 4 dimensions"):
        ResidualAction(make_env("cartpole"), policy)


def test_finetune_from_a_rabc_dir_trains_evaluates_and_resumes(rabc_dir, tmp_path):
    run = tmp_path / "run"
    metrics = train(finetune_cfg(rabc_dir), run)
    assert metrics["num_timesteps"] >= 120
    saved = load_run_config(run)
    assert saved.reward.name == "progress" and saved.algo.base_policy.endswith("policies/rabc")
    # The run's env acts through the RA-BC weights exactly as robrew-rabc saved them.
    env = make_run_env(resolve_task(saved), saved)
    on_disk = load_file(str(rabc_dir / "policies" / "rabc" / "policy.safetensors"))
    state = env.base.state_dict()
    assert set(state) == set(on_disk) and all(torch.equal(state[k], on_disk[k]) for k in on_disk)
    result = evaluate_run(run, episodes=2, videos=0)
    assert result["success_rate"]["n"] == 2
    before = latest_checkpoint(run)
    train(dataclasses.replace(saved, resume=str(run), total_timesteps=180), run)
    assert latest_checkpoint(run) != before


@pytest.mark.parametrize(
    "change, message",
    [
        ({"task": TaskConfig("tabletop_push")}, "was trained on task 'tabletop_reach', not 'tabletop_push'"),
        ({"finetune": "/nonexistent/rabc"}, "not a finished robrew-rabc output directory"),
    ],
)
def test_bad_finetune_sources_are_one_line(rabc_dir, tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        train(finetune_cfg(rabc_dir, **change), tmp_path / "run")
    assert not (tmp_path / "run").exists()
