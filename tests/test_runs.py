"""The run-directory format in process: config round trip, SB3 arguments from typed params,
atomic checkpoints with a live pointer, loading a learner back bit-exactly."""

import json

import numpy as np
import pytest
import torch
from stable_baselines3.common.vec_env import DummyVecEnv

from robrew.agents.ppo import PpoConfig, PpoParams
from robrew.agents.registry import get_algorithm
from robrew.agents.sac import SacConfig, SacParams
from robrew.rewards.factory import Composition, RewardConfig
from robrew.runs import (
    Algo,
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


def make_cfg(**algo):
    return TrainConfig(
        task=TaskConfig("tabletop_reach"),
        reward=RewardConfig(name="frame_mean", composition=Composition.potential, kwargs={"scale": 2.0}),
        algo=PpoConfig(params=PpoParams(**algo)),
        seed=3,
    )


def test_config_round_trip(tmp_path):
    cfg = make_cfg(n_steps=64, net_arch=[32, 32])
    save_run_config(tmp_path, cfg)
    import yaml

    assert "hydra" not in yaml.safe_load((tmp_path / "config.yaml").read_text())  # Hydra's settings are not the run's
    back = load_run_config(tmp_path)
    assert back.reward.composition is Composition.potential and back.algo.name == Algo.ppo
    assert type(back.algo) is PpoConfig and type(back.algo.params) is PpoParams
    assert back.algo.params.n_steps == 64 and back.algo.params.net_arch == [32, 32]
    assert back.reward.kwargs == {"scale": 2.0} and back.seed == 3
    with pytest.raises(ConfigError, match="not a robrew run directory"):
        load_run_config(tmp_path / "nope")


def test_each_algorithm_round_trips_as_its_own_settings_class(tmp_path):
    cfg = make_cfg()
    cfg.algo = SacConfig(her=True, params=SacParams(buffer_size=500, critic_layer_norm=True))
    save_run_config(tmp_path, cfg)
    back = load_run_config(tmp_path)
    assert type(back.algo) is SacConfig and back.algo.her and back.algo.params.critic_layer_norm
    assert back.algo.params.buffer_size == 500 and not hasattr(back.algo.params, "n_epochs")


# config.yaml as runs saved it when every algorithm shared one settings class: every field there.
FORMER_ALGO = """
algo:
  name: {name}
  policy: MlpPolicy
  params: {{learning_rate: null, gamma: 0.9, n_steps: 64, n_epochs: null, buffer_size: null, critic_layer_norm: null}}
  her: {her}
  demos: null
  demo_ratio: 0.5
  pretrain: none
  pretrain_steps: 2000
  actor_warmup: 0
  base_policy: null
  residual: {{scale: 0.1, zero_init: true, warmup_iters: 5}}
"""


def test_runs_saved_before_settings_classes_load_and_a_foreign_setting_is_one_line(tmp_path):
    import yaml

    cfg = make_cfg()
    save_run_config(tmp_path, cfg)
    saved = yaml.safe_load((tmp_path / "config.yaml").read_text())
    for name, her in (("ppo", "false"), ("sac", "false")):
        saved["algo"] = yaml.safe_load(FORMER_ALGO.format(name=name, her=her))["algo"]
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
        back = load_run_config(tmp_path)
        assert back.algo.name == name and back.algo.params.gamma == 0.9 and back.algo.params.n_steps == 64
        assert back.seed == 3 and back.reward.kwargs == {"scale": 2.0}
    assert type(back.algo) is SacConfig and not hasattr(back.algo.residual, "warmup_iters")
    saved["algo"] = yaml.safe_load(FORMER_ALGO.format(name="ppo", her="true"))["algo"]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
    with pytest.raises(ConfigError, match="algo.her=True is a SAC/TQC setting, but the run's algorithm is ppo"):
        load_run_config(tmp_path)
    saved["algo"] = {**yaml.safe_load(FORMER_ALGO.format(name="ppo", her="false"))["algo"], "extra": {"a": 1}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
    with pytest.raises(ConfigError, match="algo.extra=.* is no algorithm's setting"):
        load_run_config(tmp_path)


def test_algo_params_defaults_overrides_and_errors():
    got = algo_params(PpoConfig(params=PpoParams(n_steps=64, net_arch=[8], log_std_init=-1.0)), ("tabletop",))
    assert got["n_steps"] == 64 and got["gamma"] == 0.97 and got["batch_size"] == 256  # family defaults stay
    assert got["policy_kwargs"] == {"net_arch": [8], "log_std_init": -1.0}
    assert "buffer_size" in algo_params(SacConfig(), ("humanoid",))
    # SAC on tabletop starts its temperature at 0.01, not SB3's 1.0 (which drowns 0-1 rewards).
    assert algo_params(SacConfig(), ("tabletop",))["ent_coef"] == "auto_0.01"
    assert algo_params(SacConfig(params=SacParams(ent_coef=0.2)), ("tabletop",))["ent_coef"] == 0.2


def test_normalize_defaults_per_algorithm_and_task_family():
    from robrew.runs import resolve_normalize

    def decided(algo, tags, given=None):
        cfg = make_cfg()
        cfg.algo, cfg.normalize = get_algorithm(algo).config(), given
        return resolve_normalize(cfg, tags).normalize

    assert decided(Algo.ppo, ("humanoid", "pose")) is True  # PPO on humanoid state: normalised
    assert decided(Algo.ppo, ("tabletop",)) is False and decided(Algo.sac, ("humanoid",)) is False
    assert decided(Algo.ppo, ("humanoid",), given=False) is False  # an explicit choice wins
    assert decided(Algo.sac, ("tabletop",), given=True) is True


def tiny_learner(algo: Algo, normalize: bool = False, steps: int = 192):
    """A real learner on tabletop_reach, trained a little, built the way robrew-train builds it."""
    from stable_baselines3.common.vec_env import VecNormalize

    from robrew.env_factory import make_env
    from robrew.runs import build_learner, resolve_task

    cfg = make_cfg()
    cfg.algo = (
        PpoConfig(params=PpoParams(n_steps=64, batch_size=64, n_epochs=1))
        if algo == Algo.ppo
        else SacConfig(params=SacParams(buffer_size=500, learning_starts=32, batch_size=32))
    )
    spec = resolve_task(cfg)
    venv = DummyVecEnv([lambda: make_env(spec)])
    norm = VecNormalize(venv) if normalize else None
    model = build_learner(cfg, spec, norm or venv)
    return cfg, model.learn(steps), norm


def test_checkpoints_are_atomic_pruned_and_load_bit_exactly(tmp_path):
    save_run_config(tmp_path, make_cfg())
    assert latest_checkpoint(tmp_path) is None
    with pytest.raises(ConfigError, match="no checkpoint yet"):
        resolve_checkpoint(tmp_path)
    cfg, model, _ = tiny_learner(Algo.ppo)
    dirs = []
    for _ in range(3):
        dirs.append(save_checkpoint(tmp_path, model, keep=2))
        model.learn(64, reset_num_timesteps=False)
    root = tmp_path / "checkpoints"
    assert sorted(p.name for p in root.glob("step_*")) == [d.name for d in dirs[1:]]  # the oldest pruned
    assert not list(root.glob(".tmp-*"))
    assert json.loads((root / "latest.json").read_text())["checkpoint"] == dirs[-1].name
    assert resolve_checkpoint(tmp_path) == (tmp_path, dirs[-1]) == resolve_checkpoint(dirs[-1])
    with pytest.raises(ConfigError, match="neither a run directory"):
        resolve_checkpoint(tmp_path / "checkpoints")
    # Saving the same step again keeps the live checkpoint (nothing trained since).
    again = save_checkpoint(tmp_path, model, keep=2)
    assert again.name == f"step_{model.num_timesteps:010d}"


@pytest.mark.parametrize("algo", [Algo.ppo, Algo.sac])
def test_learner_state_round_trips_bit_exactly_without_pickles(tmp_path, algo):
    cfg, model, norm = tiny_learner(algo, normalize=True)
    ckpt = save_checkpoint(tmp_path, model, norm)
    names = sorted(p.name for p in ckpt.iterdir())
    assert not any(n.endswith((".zip", ".pkl", ".pt", ".pth")) for n in names), names
    for npz in ckpt.glob("*.npz"):
        assert np.load(npz, allow_pickle=False).files  # readable without pickles
    from stable_baselines3.common.vec_env import VecNormalize

    from robrew.env_factory import make_env
    from robrew.runs import load_obs_normalizer, resolve_task, restore_normalizer

    spec = resolve_task(cfg)
    fresh_norm = VecNormalize(DummyVecEnv([lambda: make_env(spec)]))
    restore_normalizer(fresh_norm, ckpt)
    loaded = load_learner(cfg, ckpt, fresh_norm)
    for k, v in model.policy.state_dict().items():
        assert torch.equal(v, loaded.policy.state_dict()[k]), k
    opt_names = [n for n in model._get_torch_save_params()[0] if "optimizer" in n]
    for name in opt_names:
        from robrew.agents.learner_state import _get

        sa, sb = _get(model, name).state_dict(), _get(loaded, name).state_dict()
        for idx in sa["state"]:
            for key, value in sa["state"][idx].items():
                assert torch.equal(torch.as_tensor(value), torch.as_tensor(sb["state"][idx][key])), (name, idx, key)
    assert loaded.num_timesteps == model.num_timesteps and loaded._n_updates == model._n_updates
    np.testing.assert_array_equal(fresh_norm.obs_rms.mean, norm.obs_rms.mean)
    obs = np.asarray(norm.get_original_obs()[:1], np.float32)
    frozen = load_obs_normalizer(ckpt)
    np.testing.assert_allclose(frozen.normalize_obs(obs), norm.normalize_obs(obs), rtol=1e-6)
    if algo == Algo.sac:
        n = model.replay_buffer.pos
        assert n > 0 and loaded.replay_buffer.pos == n
        np.testing.assert_array_equal(loaded.replay_buffer.observations[:n], model.replay_buffer.observations[:n])
        assert torch.equal(loaded.log_ent_coef, model.log_ent_coef)
    # Evaluation rebuilds without a replay buffer of the training size.
    eval_model = load_learner(cfg, ckpt)
    act = np.asarray(loaded.predict(obs, deterministic=True)[0])
    np.testing.assert_array_equal(np.asarray(eval_model.predict(obs, deterministic=True)[0]), act)
