"""The run-directory format in process: config round trip, SB3 arguments from typed params,
atomic checkpoints with a live pointer, loading a learner back bit-exactly."""

import json
from functools import partial

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv

from robrew.rewards.factory import Composition, RewardConfig
from robrew.runs import (
    Algo,
    AlgoConfig,
    AlgoParams,
    ConfigError,
    TaskConfig,
    TrainConfig,
    algo_params,
    latest_checkpoint,
    load_learner,
    load_run_config,
    resolve_checkpoint,
    save_checkpoint,
    save_run_config,
)
from robrew.testing import FrameCounterEnv


def make_cfg(**algo):
    return TrainConfig(
        task=TaskConfig("tabletop_reach"),
        reward=RewardConfig(name="frame_mean", composition=Composition.potential, kwargs={"scale": 2.0}),
        algo=AlgoConfig(name=Algo.ppo, params=AlgoParams(**algo)),
        seed=3,
    )


def test_config_round_trip(tmp_path):
    cfg = make_cfg(n_steps=64, net_arch=[32, 32])
    save_run_config(tmp_path, cfg)
    import yaml

    assert "hydra" not in yaml.safe_load((tmp_path / "config.yaml").read_text())  # Hydra's settings are not the run's
    back = load_run_config(tmp_path)
    assert back.reward.composition is Composition.potential and back.algo.name is Algo.ppo
    assert back.algo.params.n_steps == 64 and back.algo.params.net_arch == [32, 32]
    assert back.reward.kwargs == {"scale": 2.0} and back.seed == 3
    with pytest.raises(ConfigError, match="not a robrew run directory"):
        load_run_config(tmp_path / "nope")


def test_algo_params_defaults_overrides_and_errors():
    got = algo_params(AlgoConfig(name=Algo.ppo, params=AlgoParams(n_steps=64, net_arch=[8], log_std_init=-1.0)),
                      ("tabletop",))  # fmt: skip
    assert got["n_steps"] == 64 and got["gamma"] == 0.97 and got["batch_size"] == 256  # family defaults stay
    assert got["policy_kwargs"] == {"net_arch": [8], "log_std_init": -1.0}
    assert "buffer_size" in algo_params(AlgoConfig(name=Algo.sac), ("humanoid",))
    with pytest.raises(ConfigError, match="algo.params.n_steps is a PPO parameter, but algo=sac"):
        algo_params(AlgoConfig(name=Algo.sac, params=AlgoParams(n_steps=8)), ())


def tiny_ppo(steps=64):
    venv = DummyVecEnv([partial(FrameCounterEnv, length=5, render_mode=None)])
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=32, n_epochs=1, seed=0, device="cpu")
    return model.learn(steps)


def test_checkpoints_are_atomic_pruned_and_load_bit_exactly(tmp_path):
    save_run_config(tmp_path, make_cfg())
    assert latest_checkpoint(tmp_path) is None
    with pytest.raises(ConfigError, match="no checkpoint yet"):
        resolve_checkpoint(tmp_path)
    model = tiny_ppo()
    dirs = []
    for _ in range(3):
        dirs.append(save_checkpoint(tmp_path, model, keep=2))
        model.learn(32, reset_num_timesteps=False)
    root = tmp_path / "checkpoints"
    assert sorted(p.name for p in root.glob("step_*")) == [d.name for d in dirs[1:]]  # the oldest pruned
    assert not list(root.glob(".tmp-*"))
    assert json.loads((root / "latest.json").read_text())["checkpoint"] == dirs[-1].name
    assert resolve_checkpoint(tmp_path) == (tmp_path, dirs[-1]) == resolve_checkpoint(dirs[-1])
    with pytest.raises(ConfigError, match="neither a run directory"):
        resolve_checkpoint(tmp_path / "checkpoints")
    loaded = load_learner(make_cfg(), dirs[-1], venv=None)
    saved_state = PPO.load(dirs[-1] / "model.zip").policy.state_dict()
    for k, v in loaded.policy.state_dict().items():
        assert torch.equal(v, saved_state[k]), k
    obs = np.array([[2.0, 0.0]], np.float32)
    assert loaded.predict(obs, deterministic=True)[0] == PPO.load(dirs[-1] / "model.zip").predict(obs, True)[0]
