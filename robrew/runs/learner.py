"""Building and loading a run's learner: :func:`build_learner`, :func:`load_learner`, the
observation normaliser, and :func:`load_run_policy` (all of a run's policy at once)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from robrew.agents.learner_state import NORMALIZER_NPZ
from robrew.runs.checkpoints import resolve_checkpoint
from robrew.runs.config import (
    ConfigError,
    TrainConfig,
    algo_params,
    algorithm,
    load_run_config,
    off_policy_settings,
    resolve_task,
)
from robrew.runs.sources import env_observation_fn, make_run_env
from robrew.taskspec import TaskSpec

# ---- building and loading a learner ---------------------------------------------------------


def policy_name(cfg: TrainConfig, observation_space) -> str:
    """The SB3 policy a run builds: ``algo.policy``, with ``MlpPolicy`` becoming
    ``MultiInputPolicy`` for Dict observations (what ``config.yaml`` records)."""
    from gymnasium import spaces

    if isinstance(observation_space, spaces.Dict) and cfg.algo.policy == "MlpPolicy":
        return "MultiInputPolicy"
    return cfg.algo.policy


def build_learner(
    cfg: TrainConfig, spec: TaskSpec, venv, tensorboard_log: str | None = None, with_demos: bool = True, **overrides
):
    """A new learner of ``cfg.algo.name`` (:mod:`robrew.agents.registry`) on ``venv``, with the task
    family's defaults and ``cfg.algo.params``
    (and, with an off-policy learner's ``cfg.algo.demos`` and ``with_demos``, a replay buffer that mixes demonstrations
    into every batch; the caller sets them, see :mod:`robrew.agents.demo_replay`).

    Raises:
        ConfigError: SB3 rejects the hyperparameters (the message names the algorithm and the problem).
    """
    from gymnasium import spaces

    algo = algorithm(cfg.algo)
    try:
        cls, extra = algo.load(cfg.algo.residual if cfg.algo.base_policy else None)
    except ImportError as e:
        raise ConfigError(str(e)) from None
    params = {**algo_params(cfg.algo, spec.tags), **extra, **overrides}
    policy = algo.policy(policy_name(cfg, venv.observation_space), params)
    off = off_policy_settings(cfg.algo)  # HER and demos are off-policy learners' settings
    if off and off.her:
        if not isinstance(venv.observation_space, spaces.Dict) or "desired_goal" not in venv.observation_space.spaces:
            raise ConfigError("algo.her=true needs a goal-conditioned env (Dict observations with desired_goal)")
        if params.get("n_steps", 1) > 1:
            raise ConfigError("algo.params.n_steps > 1 (n-step returns) does not work with algo.her=true")
        from stable_baselines3 import HerReplayBuffer

        params["replay_buffer_class"] = HerReplayBuffer
        params["replay_buffer_kwargs"] = {"n_sampled_goal": 4, "goal_selection_strategy": "future"}
    if off and off.demos and with_demos:
        if off.her:
            raise ConfigError("algo.demos does not work with algo.her=true (both set the replay buffer): drop one")
        if not 0.0 <= off.demo_ratio < 1.0:
            raise ConfigError(f"algo.demo_ratio must be in [0, 1), got {off.demo_ratio}")
        from robrew.agents.demo_replay import DemoMixReplayBuffer

        params["replay_buffer_class"] = DemoMixReplayBuffer
        params["replay_buffer_kwargs"] = {
            "demo_ratio": off.demo_ratio,
            "n_steps": params.pop("n_steps", 1),  # SB3 leaves n-step returns to a custom buffer: ours does them
            "gamma": params.get("gamma", 0.99),  # SAC's own default
        }
    try:
        return cls(policy, venv, seed=cfg.seed, device=cfg.device, tensorboard_log=tensorboard_log, verbose=0, **params)
    except (TypeError, ValueError, AssertionError, RuntimeError) as e:
        raise ConfigError(f"algo '{cfg.algo.name}': {e}") from None


def load_learner(cfg: TrainConfig, checkpoint: Path, venv=None, tensorboard_log: str | None = None):
    """The learner saved in ``checkpoint``, rebuilt from ``cfg`` and bound to ``venv``.

    Without a ``venv`` (evaluation) it is bound to one plain env of the task, for the spaces,
    and the replay buffer is neither allocated nor loaded.

    Raises:
        ConfigError: a state file is missing, unreadable, or does not fit the config.
    """
    from robrew.agents.learner_state import StateFileError, load_learner_state

    spec = resolve_task(cfg)
    overrides = {}
    if venv is None:
        from stable_baselines3.common.vec_env import DummyVecEnv

        venv = DummyVecEnv([lambda: make_run_env(spec, cfg)])  # the learner's spaces (a residual's too)
        if algorithm(cfg.algo).off_policy:
            overrides = {"buffer_size": 1, "learning_starts": 0}
    import warnings

    with warnings.catch_warnings():  # PPO's advice on batch sizes for the 1-env venv evaluation binds it to
        warnings.filterwarnings("ignore", message="(?s).*batch_size.*factor", category=UserWarning)
        model = build_learner(cfg, spec, venv, tensorboard_log, with_demos=not overrides, **overrides)
    try:
        load_learner_state(model, checkpoint, replay=not overrides)
    except StateFileError as e:
        raise ConfigError(str(e)) from None
    return model


def load_obs_normalizer(checkpoint: Path):
    """The checkpoint's frozen observation normaliser (``normalize_obs``), or ``None`` if the run
    did not normalise."""
    from robrew.agents.learner_state import ObsNormalizer, StateFileError

    if not (Path(checkpoint) / NORMALIZER_NPZ).is_file():
        return None
    try:
        return ObsNormalizer(checkpoint)
    except (StateFileError, KeyError) as e:
        raise ConfigError(str(e)) from None


def restore_normalizer(vec_normalize, checkpoint: Path) -> None:
    """Loads the checkpoint's VecNormalize statistics into a freshly built ``vec_normalize`` (resume)."""
    from robrew.agents.learner_state import StateFileError, load_normalizer_stats

    if not (Path(checkpoint) / NORMALIZER_NPZ).is_file():
        return
    try:
        load_normalizer_stats(vec_normalize, checkpoint)
    except (StateFileError, KeyError) as e:
        raise ConfigError(str(e)) from None


def policy_fn(model, vec_normalize=None, deterministic: bool = True):
    """The policy on raw observations (normalised like training if needed): its mean action, or
    with ``deterministic=False`` an action sampled from it."""

    def act(obs: np.ndarray) -> np.ndarray:
        if vec_normalize is not None:
            obs = vec_normalize.normalize_obs(obs)
        return model.predict(obs, deterministic=deterministic)[0]

    return act


@dataclass
class RunPolicy:
    """A trained run's policy, ready to act (what evaluation and reward checks roll out)."""

    run_dir: Path
    checkpoint: Path
    cfg: TrainConfig
    spec: TaskSpec
    learner: Any  # the SB3 model, state loaded from ``checkpoint``
    act: Callable[[np.ndarray], np.ndarray]  # raw observation -> deterministic action (:func:`policy_fn`)
    env_obs: Callable | None = None  # the env's own observation in the learner's (:func:`env_observation_fn`)

    def make_env(self, render: bool = False):
        """One env of the run as its learner acts in it (:func:`make_run_env`)."""
        return make_run_env(self.spec, self.cfg, render)


def load_run_policy(path: str | Path) -> RunPolicy:
    """The policy of a run directory (its live checkpoint) or of one checkpoint: config, task,
    learner and the deterministic actor with the checkpoint's observation normaliser.

    Example:
        >>> run = load_run_policy("runs/tabletop_push/2026-11-22_10-00-00")
        >>> env = run.make_env(); obs, _ = env.reset(seed=0); env.step(run.act(obs))

    Raises:
        ConfigError: ``path`` is neither a run nor a checkpoint, or its config or task cannot load.
    """
    run_dir, ckpt = resolve_checkpoint(path)
    cfg = load_run_config(run_dir)
    spec = resolve_task(cfg)
    learner = load_learner(cfg, ckpt, venv=None)
    act = policy_fn(learner, load_obs_normalizer(ckpt))
    return RunPolicy(run_dir, ckpt, cfg, spec, learner, act, env_observation_fn(cfg))
