"""The algorithm registry: every algorithm runs end to end from its registry entry, its own
parameters reach its learner, and another algorithm's parameters are one line."""

import dataclasses
import json

import pytest

from robrew.agents.ppo import PpoConfig
from robrew.agents.registry import ALGORITHMS, get_algorithm
from robrew.agents.sac import SacConfig
from robrew.agents.tqc import TqcConfig, TqcParams
from robrew.eval.evaluate import evaluate_run
from robrew.rewards.factory import RewardConfig
from robrew.runs import (
    Algo,
    ConfigError,
    TaskConfig,
    TrainConfig,
    algo_params,
    latest_checkpoint,
    load_run_policy,
)
from robrew.training.train import train


def test_every_registered_algorithm_is_selectable_and_unknown_ones_are_one_line():
    assert {a.value for a in Algo} == set(ALGORITHMS) >= {"ppo", "sac", "tqc"}
    assert [n for n, a in ALGORITHMS.items() if a.off_policy] == ["sac", "tqc"]
    with pytest.raises(KeyError, match=r"unknown algorithm 'ddpg'; choose one of \['ppo', 'sac', 'tqc'\]"):
        get_algorithm("ddpg")


def test_tqc_takes_its_own_and_the_off_policy_parameters_only():
    got = algo_params(
        TqcConfig(params=TqcParams(n_quantiles=10, top_quantiles_to_drop_per_net=3, tau=0.01)),
        ("tabletop",),
    )
    assert got["policy_kwargs"] == {"n_quantiles": 10} and got["top_quantiles_to_drop_per_net"] == 3
    assert got["tau"] == 0.01 and got["ent_coef"] == "auto_0.01"  # SAC's tabletop defaults


def test_each_algorithm_has_only_its_own_settings():
    """One settings class per algorithm: another algorithm's setting does not exist in it, and the
    command line names its owners in one line before anything runs."""
    from robrew.apps.train import algo_key_error

    with pytest.raises(TypeError):
        TqcParams(critic_layer_norm=True)
    with pytest.raises(TypeError):
        PpoConfig(her=True)
    assert not hasattr(SacConfig().params, "n_epochs") and not hasattr(SacConfig().residual, "warmup_iters")
    assert algo_key_error(["algo=tqc", "algo.params.critic_layer_norm=true"]) == (
        "algo.params.critic_layer_norm is a SAC setting, but algo=tqc"
    )
    assert (
        algo_key_error(["algo.params.buffer_size=10"]) == "algo.params.buffer_size is a SAC/TQC setting, but algo=ppo"
    )
    assert algo_key_error(["algo=sac", "algo.residual.warmup_iters=2"]) == (
        "algo.residual.warmup_iters is a PPO setting, but algo=sac"
    )
    assert algo_key_error(["-m", "algo=ppo,sac", "algo.params.n_epochs=2"]) == (
        "algo.params.n_epochs is a PPO setting, but algo=sac"
    )
    assert algo_key_error(["algo=sac", "algo.params.n_steps=3", "++algo.residual.scale=0.2"]) is None
    assert "not a setting of algo=ppo" in algo_key_error(["algo.params.nope=1"])
    assert "algo=<name>" in algo_key_error(["algo.name=sac"]) and "unknown" in algo_key_error(["algo=ddpg"])


def test_a_settings_class_that_does_not_fit_its_name_is_one_line():
    with pytest.raises(ConfigError, match=r"algo is a SacConfig with SacParams but names ppo: use PpoConfig"):
        algo_params(SacConfig(name="ppo"), ())
    with pytest.raises(ConfigError, match="algo is a SacConfig with TqcParams but names sac"):
        algo_params(SacConfig(params=TqcParams()), ())


def test_tqc_trains_checkpoints_resumes_and_evaluates(tmp_path):
    run = tmp_path / "run"
    cfg = TrainConfig(
        task=TaskConfig("tabletop_reach"),
        reward=RewardConfig(name="env"),
        algo=TqcConfig(
            params=TqcParams(learning_starts=50, buffer_size=1000, batch_size=32, n_quantiles=7, net_arch=[32, 32])
        ),
        n_envs=1,
        total_timesteps=150,
        checkpoint_every=75,
        eval_every=75,
        eval_episodes=1,
        progress_bar=False,
    )
    metrics = train(cfg, run)
    assert metrics["num_timesteps"] >= 150
    ckpt = latest_checkpoint(run)
    assert json.loads((ckpt / "learner.json").read_text())["algo"] == "tqc" and (ckpt / "replay.npz").is_file()
    policy = load_run_policy(run)
    assert type(policy.learner).__name__ == "TQC" and policy.learner.critic.quantiles_total == 7 * 2
    assert policy.learner.replay_buffer.size() == 0  # evaluation allocates no replay
    result = evaluate_run(run, episodes=1, videos=0)
    assert result["success_rate"]["n"] == 1
    resumed = train(dataclasses.replace(cfg, resume=str(run), total_timesteps=225), run)
    assert resumed["num_timesteps"] >= 225 and latest_checkpoint(run) != ckpt
