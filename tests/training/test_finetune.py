"""Residual RL fine-tuning of robrew-rabc's RA-BC policy: the base policy is loaded bit-exactly,
a zero correction is exactly the RA-BC policy, and `finetune=<rabc dir>` trains, checkpoints,
evaluates and resumes."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from robrew.agents.bc_policy import load_policy
from robrew.agents.ppo import PpoConfig, PpoParams, PpoResidualConfig
from robrew.agents.residual import ResidualAction, ResidualConfig
from robrew.agents.sac import SacConfig, SacParams
from robrew.env_factory import make_env
from robrew.eval.evaluate import evaluate_run
from robrew.jobs.rabc import RabcExperimentConfig, run_rabc_experiment
from robrew.rewards.factory import RewardConfig
from robrew.runs import (
    ConfigError,
    TaskConfig,
    TrainConfig,
    finetune_config,
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
        algo=SacConfig(params=SacParams(learning_starts=50, buffer_size=1000, batch_size=32)),
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
    env = ResidualAction(make_env(TASK), policy, ResidualConfig(scale=0.3, observe_base=False))
    reference, actor = make_env(TASK), load_policy(rabc_dir / "policies" / "rabc").actor()
    obs, _ = env.reset(seed=3)
    ref_obs, _ = reference.reset(seed=3)
    actor.reset()
    for _ in range(15):
        action = actor(ref_obs)
        obs, *_, info = env.step(np.zeros(4, np.float32))
        ref_obs, *_ = reference.step(action)
        np.testing.assert_array_equal(info["base_action"], action)
        np.testing.assert_array_equal(obs, ref_obs)
    # A penalty prices the correction into the env reward: reward - penalty * mean(a^2).
    priced = ResidualAction(make_env(TASK), policy, ResidualConfig(scale=0.3, penalty=2.0))
    plain = ResidualAction(make_env(TASK), policy, ResidualConfig(scale=0.3))
    priced.reset(seed=5)
    plain.reset(seed=5)
    a = np.array([0.5, -0.5, 1.0, 0.0], np.float32)
    (_, r_priced, *_, info), (_, r_plain, *_) = priced.step(a), plain.step(a)
    assert r_priced == pytest.approx(r_plain - 2.0 * 0.375) and info["residual_cost"] == pytest.approx(0.75)


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
        ({"finetune_policy": "success"}, r"pass finetune_policy= one of \['none', 'rabc'\]"),
    ],
)
def test_bad_finetune_sources_are_one_line(rabc_dir, tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        train(finetune_cfg(rabc_dir, **change), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_finetune_policy_picks_which_of_the_jobs_policies_is_the_base(rabc_dir):
    cfg = finetune_config(finetune_cfg(rabc_dir, finetune_policy="none"), rabc_dir)
    assert Path(cfg.algo.base_policy) == (rabc_dir / "policies" / "none").resolve()
    assert Path(finetune_config(finetune_cfg(rabc_dir), rabc_dir).algo.base_policy).name == "rabc"


@pytest.mark.heavy
def test_residual_ppo_end_to_end_through_the_console_scripts(rabc_dir, tmp_path, run_clis):
    """robrew-train finetune=<rabc dir> algo=ppo on the sparse variant of the task, then robrew-eval;
    a resume keeps the base policy (by hash) and the residual settings, and refuses a changed base."""
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    bin_dir = Path(sys.executable).parent
    source = tmp_path / "rabc"
    shutil.copytree(rabc_dir, source)

    def cli(*args, check=True):
        out = subprocess.run(
            [str(bin_dir / args[0]), *args[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        assert not check or out.returncode == 0, out.stderr[-3000:]
        return out

    run = tmp_path / "run"
    tiny = [
        "progress_bar=false",
        "n_envs=2",
        "algo.params.n_steps=64",
        "algo.params.batch_size=64",
        "checkpoint_every=128",
        "eval_every=128",
        "eval_episodes=2",
    ]
    cli(
        "robrew-train",
        "task=tabletop_reach_sparse",
        f"finetune={source}",
        "algo=ppo",
        "finetune_reward=env",
        "algo.residual.scale=0.2",
        "algo.residual.warmup_iters=1",
        "total_timesteps=256",
        f"run_dir={run}",
        *tiny,
    )
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["algo"]["base_policy"] == str((source / "policies" / "rabc").resolve())
    assert saved["algo"]["residual"]["scale"] == 0.2 and saved["normalize"] is True  # the residual family's
    assert json.loads((run / "base_policy.json").read_text())["sha256"]
    ckpt = run / "checkpoints" / json.loads((run / "checkpoints" / "latest.json").read_text())["checkpoint"]
    assert json.loads((ckpt / "learner.json").read_text())["algo"] == "residualppo"
    evaluated, resumed = run_clis(  # one interpreter for both
        [
            (["robrew-eval", run, "--episodes", "2", "--videos", "0"], tmp_path),
            (["robrew-train", f"resume={run}", "total_timesteps=384"], tmp_path),
        ]
    )
    assert evaluated.returncode == 0 and "success" in evaluated.stdout, evaluated.stderr[-3000:]
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads((run / "metrics.json").read_text())["num_timesteps"] >= 384
    assert yaml.safe_load((run / "config.yaml").read_text())["algo"] == saved["algo"]
    # another base policy under the same path: the residual was learned for the old one
    weights = source / "policies" / "rabc" / "policy.safetensors"
    state = load_file(str(weights))
    from safetensors.torch import save_file

    save_file({k: v + 1.0 if v.is_floating_point() else v for k, v in state.items()}, str(weights))
    refused = cli("robrew-train", f"resume={run}", "total_timesteps=512", check=False)
    assert refused.returncode == 2 and "changed since this run started" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert json.loads((run / "metrics.json").read_text())["num_timesteps"] < 512


def test_hard_starts_start_episodes_on_the_given_layouts():
    """p = 1: every episode starts on one of the seeds' layouts; p = 0: none does; p = 0.5: about
    half, and the same first seed draws the same sequence."""
    from robrew.training.hard_starts import HardStarts

    def layout(seed):
        return make_env(TASK).reset(seed=seed)[0]

    known = {7: layout(7), 11: layout(11)}
    always = HardStarts(make_env(TASK), [7, 11], 1.0)
    starts = [always.reset(seed=0 if i == 0 else None) for i in range(8)]
    assert all(info["hard_start"] for _, info in starts)
    assert always.step(np.zeros(4, np.float32))[-1]["hard_start"]  # every step of the episode says so
    assert all(any(np.array_equal(obs, k) for k in known.values()) for obs, _ in starts)
    assert {i for i, k in known.items() for obs, _ in starts if np.array_equal(obs, k)} == {7, 11}
    never = HardStarts(make_env(TASK), [7, 11], 0.0)
    fresh = [never.reset(seed=0 if i == 0 else None) for i in range(8)]
    assert not any(info["hard_start"] or any(np.array_equal(obs, k) for k in known.values()) for obs, info in fresh)

    def draws(first):
        env = HardStarts(make_env(TASK), [7], 0.5)
        return [env.reset(seed=first if i == 0 else None) for i in range(200)]

    a, b, c = draws(0), draws(0), draws(1)
    assert 0.35 < np.mean([info["hard_start"] for _, info in a]) < 0.65
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(a, b))
    assert not all(np.array_equal(x[0], y[0]) for x, y in zip(a, c))
    with pytest.raises(ValueError, match="at least one seed"):
        HardStarts(make_env(TASK), [], 0.5)


def test_stall_start_by_hand():
    from robrew.training.hard_starts import MIN_STILL, stall_start

    def episode(moving: int, still: int):  # 1-d observations after each step
        return [np.r_[float(t)] for t in range(1, moving + 1)] + [np.r_[float(moving)]] * still

    # Moving for 3 steps, then still: the stall state is reached after 3 steps; lead 1 hands over after 2.
    assert stall_start(episode(3, MIN_STILL + 2), still=1e-4, lead=1) == 2
    assert stall_start(episode(3, MIN_STILL), still=1e-4, lead=0) == 3  # exactly MIN_STILL still steps
    assert stall_start(episode(3, MIN_STILL - 1), still=1e-4, lead=0) == 0  # one short of a stall: from the reset
    assert stall_start(episode(3, 20), still=1e-4, lead=10) == 0  # the lead reaches back past the reset
    assert stall_start(episode(3, 20), still=2.0, lead=0) == 0  # nothing moves by 2: still from the start
    assert stall_start([np.r_[0.0, t % 2] for t in range(30)], still=1e-4, lead=0) == 0  # never still


def test_a_stall_start_replays_the_base_policy_to_where_it_would_be(rabc_dir):
    """The wrapper's replay reaches the very state the base policy alone (a zero residual through
    ResidualAction) reaches after the same number of steps on that layout, bit for bit."""
    from robrew.training.hard_starts import HardStarts, base_replay

    algo = PpoConfig()
    cfg = finetune_config(finetune_cfg(rabc_dir, algo=algo), rabc_dir)
    spec = resolve_task(cfg)
    for steps in (0, 1, 7):
        env = HardStarts(make_run_env(spec, cfg, residual=False), [5], 1.0, [steps], base_replay(cfg))
        obs, info = env.reset(seed=0)
        reference = make_run_env(spec, cfg)  # the base policy with a zero residual
        ref_obs, _ = reference.reset(seed=5)
        for _ in range(steps):
            ref_obs, *_ = reference.step(np.zeros(4, np.float32))
        assert info["hard_start"] and info["hard_start_step"] == steps
        np.testing.assert_array_equal(obs, ref_obs[: obs.shape[0]])  # the env part of the learner's observation
    with pytest.raises(ValueError, match="one step per seed and a replay policy"):
        HardStarts(make_run_env(spec, cfg, residual=False), [5, 6], 1.0, [3])


@pytest.mark.parametrize("start", ["reset", "stall"])
def test_hard_starts_probe_the_base_and_train_on_its_failures(rabc_dir, tmp_path, capsys, start):
    """The probe keeps exactly the layouts where the base alone fails (checked by running the base
    again on each probe seed) and, with start=stall, the step before its stall on each; the run saves
    them and a resume reuses them without probing again."""
    import json

    from robrew.agents.residual import HardStartConfig
    from robrew.training.hard_starts import HARD_STARTS_FILE, PROBE_SEED, stall_start

    hard = HardStartConfig(probability=1.0, probe=4, start=start, lead=2)
    algo = PpoConfig(
        params=PpoParams(n_steps=32, batch_size=32),
        residual=PpoResidualConfig(hard_starts=hard, warmup_iters=1),
    )
    cfg = finetune_cfg(rabc_dir, algo=algo, n_envs=2, total_timesteps=128, checkpoint_every=64, eval_every=64)
    run = tmp_path / "run"
    train(cfg, run)
    record = json.loads((run / HARD_STARTS_FILE).read_text())
    assert record["probe_episodes"] == 4 and record["base_success"]["n"] == 4
    saved = load_run_config(run)
    steps = dict(zip(record["failed_seeds"], record["start_steps"]))
    for seed in range(PROBE_SEED, PROBE_SEED + 4):
        env = make_run_env(resolve_task(saved), saved)
        env.reset(seed=seed)
        done, info, seen = False, {}, []
        while not done:
            obs, _, terminated, truncated, info = env.step(np.zeros(4, np.float32))
            seen.append(obs[:-4])  # the env's observation, without the base action
            done = terminated or truncated
        assert (seed in record["failed_seeds"]) == (not info.get("is_success", False))
        if seed in steps:
            assert steps[seed] == (stall_start(seen, hard.still, hard.lead) if start == "stall" else 0)
    assert "hard starts: the base failed" in capsys.readouterr().out
    assert record["failed_seeds"]  # the tiny base fails somewhere, so the run trained on hard starts
    events = b"".join(p.read_bytes() for p in (run / "tb").rglob("events.out.tfevents.*"))
    assert b"train/hard_start_success_rate" in events  # every training episode was a hard start
    train(dataclasses.replace(saved, resume=str(run), total_timesteps=192), run)
    assert "hard starts:" not in capsys.readouterr().out  # the saved seeds, not a second probe
    assert json.loads((run / HARD_STARTS_FILE).read_text()) == record


@pytest.mark.parametrize(
    "hard, finetune, message",
    [
        ({"probability": 1.5}, True, "hard_starts.probability must be in"),
        ({"probability": 0.5}, False, "start episodes where a base policy fails"),
    ],
)
def test_bad_hard_start_settings_are_one_line(rabc_dir, tmp_path, hard, finetune, message):
    from robrew.agents.residual import HardStartConfig

    algo = PpoConfig(residual=PpoResidualConfig(hard_starts=HardStartConfig(**hard)))
    cfg = finetune_cfg(rabc_dir, algo=algo, finetune=str(rabc_dir) if finetune else None)
    with pytest.raises(ConfigError, match=message):
        train(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_held_residual_counts_env_steps_and_resumes_its_clock_in_env_steps(rabc_dir, tmp_path, monkeypatch):
    """With algo.residual.hold=4 a learner step is 4 env steps: the run reports both counts, its
    evaluation env holds each correction 4 steps, and a resumed run's progressive exploration
    continues from the env steps trained, not the learner steps."""
    from robrew.agents.residual import VecResidualAction

    algo = PpoConfig(
        params=PpoParams(n_steps=16, batch_size=32),
        residual=PpoResidualConfig(hold=4, warmup_iters=1, progressive_steps=10_000),
    )
    cfg = finetune_cfg(rabc_dir, algo=algo, n_envs=2, total_timesteps=64, checkpoint_every=32, eval_every=32)
    run = tmp_path / "run"
    metrics = train(cfg, run)
    assert metrics["num_timesteps"] == 64 and metrics["env_steps"] == 256
    saved = load_run_config(run)
    assert saved.algo.residual.hold == 4
    env = make_run_env(resolve_task(saved), saved)
    calls = []
    step = env.env.step
    env.env.step = lambda a: (calls.append(a), step(a))[1]
    env.reset(seed=0)
    env.step(np.zeros(4, np.float32))
    assert len(calls) == 4
    clocks = []
    probability = VecResidualAction.residual_probability

    def watched(self):
        clocks.append(self.num_timesteps)
        return probability(self)

    monkeypatch.setattr(VecResidualAction, "residual_probability", watched)
    train(dataclasses.replace(saved, resume=str(run), total_timesteps=96), run)
    assert clocks[0] == 256  # 64 learner steps x 4 env steps
