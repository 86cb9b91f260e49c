"""Residual RL on a behaviour-cloned policy: the learner's action corrects a frozen base policy.

The env is stepped with ``clip(base(obs) + scale · a, -1, 1)``, where ``a`` in [-1, 1] is the
learner's action and ``base`` a :class:`~robrew.agents.bc_policy.BCPolicy` (e.g. ``robrew-rabc``'s RA-BC
policy, loaded bit-exactly from its safetensors) acting through its temporal-ensembling actor.
A learner that outputs 0 *is* the base policy, so fine-tuning starts from the base policy's
success rate, and ``scale`` bounds how far RL can take it from the demonstrations (Residual RL,
Johannink et al. 2019; ResiP, Ankile et al. 2024; Policy Decorator, Yuan et al. 2024).

One logic, two adapters:

- :class:`VecResidualAction` wraps an SB3 ``VecEnv`` (training): the base policy runs once per
  VecEnv step for all envs (a batch-invariant forward pass, so env i acts exactly as it would
  alone).
- :class:`ResidualAction` wraps one Gymnasium env (evaluation, rollouts).

Both add the base policy's next action to the observation (``observe_base``: a flat observation
gets it appended, a Dict observation a ``base_action`` key), so the learner knows what it
corrects; ``penalty`` > 0 subtracts ``penalty · mean(a²)`` from the env reward; every step's
``info`` carries ``base_action`` and ``residual_cost``. Progressive exploration (training only,
the VecEnv adapter) starts each episode with the residual switched on with probability
``min(t / progressive_steps, 1)``, ``t`` the env steps trained so far, so early training never
falls below the base.

``hold`` > 1 makes the learner decide every ``hold`` env steps: its correction is held in between
while the base policy acts at every step, so one learner step is ``hold`` env steps (fewer where
the episode ends), its reward their sum. Exploration noise then pushes in one direction for
``hold`` steps, which changes an episode's outcome far more often than per-step noise of the same
size, and an episode is ``hold`` times fewer decisions. A VecEnv steps all envs together, so an
env whose episode ends inside a held step starts its next episode on the base alone (a zero
correction, rewards not counted) until the other envs reach their next decision; one env alone
always starts an episode with a decision.

Example:
    >>> base = load_policy("runs/rabc/policies/rabc")
    >>> env = ResidualAction(make_env("tabletop_pick_place"), base, ResidualConfig(scale=0.1))
    >>> obs, info = env.reset(seed=0)                       # obs: env observation + base action
    >>> obs, r, term, trunc, info = env.step(np.zeros(4, np.float32))   # exactly the RA-BC action
    >>> venv = VecResidualAction(DummyVecEnv([...] * 8), base, ResidualConfig(scale=0.1))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from robrew.agents.bc_policy import BCPolicy

BASE_ACTION_KEY = "base_action"


class HardStartAt(StrEnum):
    """Where a hard start hands the episode to the learner: at the failing layout's reset, or
    ``lead`` steps before the base policy's final stall there (the base replays the steps before)."""

    reset = "reset"
    stall = "stall"


@dataclass
class HardStartConfig:
    """Training episodes started on layouts where the base policy fails
    (``algo.residual.hard_starts.*``; :mod:`robrew.training.hard_starts`)."""

    probability: float = 0.0  # share of training episodes started on a layout the base failed (0: off)
    probe: int = 500  # base-policy episodes searched for failing layouts (seeds disjoint from evaluation)
    start: HardStartAt = HardStartAt.reset  # stall: the learner takes over just before the base stalls
    lead: int = 5  # with start=stall: steps before the stall at which the learner takes over
    still: float = 1e-4  # with start=stall: an observation moving less than this per step is still

    def check(self) -> None:
        """Raises ``ValueError`` with one line for a setting that cannot work."""
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"algo.residual.hard_starts.probability must be in [0, 1], got {self.probability}")
        if self.probability > 0 and self.probe < 1:
            raise ValueError(f"algo.residual.hard_starts.probe must be >= 1, got {self.probe}")
        if self.lead < 0 or self.still <= 0:
            raise ValueError(
                f"algo.residual.hard_starts.lead must be >= 0 and .still > 0, got {self.lead} and {self.still}"
            )


@dataclass
class ResidualConfig:
    """How a residual learner corrects its base policy (``algo.residual.*`` in ``robrew-train``).

    Defaults are ResiP's, measured here on pick-and-place (docs/results.md). Residual PPO adds its
    own settings (:class:`robrew.agents.ppo.PpoResidualConfig`).
    """

    scale: float = 0.1  # the largest correction per action dimension, in action units (0 < scale <= 2)
    penalty: float = 0.0  # env reward minus penalty x mean(correction²)
    observe_base: bool = True  # the learner sees the base policy's action beside the observation
    decay: float = 0.3  # the base actor's temporal-ensembling decay (robrew-rabc evaluates with 0.3)
    progressive_steps: int = 0  # > 0: an episode uses the residual with probability min(t / this, 1)
    hold: int = 1  # the learner decides every `hold` env steps; its correction is held in between
    hard_starts: HardStartConfig = field(default_factory=HardStartConfig)

    def check(self) -> None:
        """Raises ``ValueError`` with one line for a setting that cannot work."""
        if not 0.0 < self.scale <= 2.0:
            raise ValueError(f"algo.residual.scale must be in (0, 2], got {self.scale}")
        if self.penalty < 0:
            raise ValueError(f"algo.residual.penalty must be >= 0, got {self.penalty}")
        if self.decay < 0:
            raise ValueError(f"algo.residual.decay must be >= 0, got {self.decay}")
        if self.progressive_steps < 0:
            raise ValueError(f"algo.residual.progressive_steps must be >= 0, got {self.progressive_steps}")
        if self.hold < 1:
            raise ValueError(f"algo.residual.hold must be >= 1 (env steps per learner decision), got {self.hold}")
        self.hard_starts.check()


# ---- the one logic ----------------------------------------------------------------------------


def check_base_fits(space: gym.Space, base: BCPolicy) -> None:
    """Raises ``ValueError`` unless ``space`` is a Box action space of the base policy's size."""
    if not isinstance(space, gym.spaces.Box) or space.shape != (base.act_dim,):
        raise ValueError(
            f"the base policy acts in {base.act_dim} dimensions but the env's action space is {space}; "
            "use a policy trained on this task's demonstrations"
        )


def combine(base: np.ndarray, correction: np.ndarray, scale: float) -> np.ndarray:
    """The action sent to the env: ``clip(base + scale · correction, -1, 1)`` (float64, as the base)."""
    return np.clip(base + scale * np.asarray(correction, np.float32), -1.0, 1.0)


def correction_cost(correction: np.ndarray, penalty: float) -> np.ndarray:
    """``penalty · mean(a²)`` per row of ``correction`` ((..., A) -> (...))."""
    return penalty * np.mean(np.square(np.asarray(correction, np.float32)), axis=-1)


def augmented_space(space: gym.Space, act_dim: int) -> gym.Space:
    """The learner's observation space: ``space`` plus the base action in [-1, 1]."""
    act = gym.spaces.Box(-1.0, 1.0, (act_dim,), np.float32)
    if isinstance(space, gym.spaces.Dict):
        if BASE_ACTION_KEY in space.spaces:
            raise ValueError(f"the env's Dict observation already has a {BASE_ACTION_KEY!r} key")
        return gym.spaces.Dict({**space.spaces, BASE_ACTION_KEY: act})
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ValueError(f"observe_base needs a flat Box or a Dict observation space, got {space}")
    low = np.concatenate([space.low.astype(np.float32), act.low])
    high = np.concatenate([space.high.astype(np.float32), act.high])
    return gym.spaces.Box(low, high, dtype=np.float32)


def augment(obs, base: np.ndarray):
    """``obs`` (one or a batch) with ``base`` (one or a batch of base actions) attached."""
    base = np.asarray(base, np.float32)
    if isinstance(obs, dict):
        return {**obs, BASE_ACTION_KEY: base}
    return np.concatenate([np.asarray(obs, np.float32), base], axis=-1)


def env_observation(obs, act_dim: int):
    """The env's own observation inside a learner's observation (:func:`augment` undone)."""
    if isinstance(obs, dict):
        return {k: v for k, v in obs.items() if k != BASE_ACTION_KEY}
    return np.asarray(obs)[..., :-act_dim]


# ---- the adapters -----------------------------------------------------------------------------


class ResidualAction(gym.Wrapper):
    """The residual for one Gymnasium env (see the module docstring).

    Args:
        env: An env with a Box action space in [-1, 1] (the base policy's range).
        base: The frozen base policy.
        cfg: The residual settings (scale, penalty, observe_base, decay, hold).

    Raises:
        ValueError: a bad setting, or a base policy whose action size does not fit the env.
    """

    def __init__(self, env: gym.Env, base: BCPolicy, cfg: ResidualConfig | None = None):
        super().__init__(env)
        self.cfg = cfg or ResidualConfig()
        self.cfg.check()
        check_base_fits(env.action_space, base)
        self.base = base
        if self.cfg.observe_base:
            self.observation_space = augmented_space(env.observation_space, base.act_dim)
        self.actor = base.batched_actor(1, self.cfg.decay)
        self._base: np.ndarray | None = None

    def _observe(self, obs):
        self._base = self.actor(batch_of_one(obs))[0]
        return augment(obs, self._base) if self.cfg.observe_base else obs

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.actor.reset()
        return self._observe(obs), info

    def base_action(self) -> np.ndarray:
        """The base policy's action for the current observation."""
        return self._base

    def step(self, action):
        decided, correction = self._base, np.asarray(action, np.float32)
        step_cost = float(correction_cost(correction, self.cfg.penalty))  # the same at every held step
        total = cost = 0.0
        for _ in range(self.cfg.hold):
            obs, reward, terminated, truncated, info = self.env.step(combine(self._base, correction, self.cfg.scale))
            total, cost = total + float(reward) - step_cost, cost + step_cost
            learner_obs = self._observe(obs)
            if terminated or truncated:
                break
        return learner_obs, total, terminated, truncated, {**info, "base_action": decided, "residual_cost": cost}


def batch_of_one(obs):
    """One observation (an array or a Dict) as a batch of one for the base actor."""
    if isinstance(obs, dict):
        return {k: np.asarray(v)[None] for k, v in obs.items()}
    return np.asarray(obs)[None]


class VecResidualAction(VecEnvWrapper):
    """The residual for an SB3 ``VecEnv`` (see the module docstring): one base-policy forward pass
    per VecEnv step for all envs; ``terminal_observation`` carries the base action too.

    Args:
        venv: The envs (before ``VecNormalize``: the base policy reads raw observations).
        base: The frozen base policy.
        cfg: The residual settings.
        seed: Seeds progressive exploration's draws.

    Attributes:
        num_timesteps: Env steps trained so far (progressive exploration's ``t``); a resumed run
            sets it to the learner's step count.
    """

    def __init__(self, venv: VecEnv, base: BCPolicy, cfg: ResidualConfig | None = None, seed: int = 0):
        cfg = cfg or ResidualConfig()
        cfg.check()
        check_base_fits(venv.action_space, base)
        space = augmented_space(venv.observation_space, base.act_dim) if cfg.observe_base else None
        super().__init__(venv, observation_space=space)
        self.cfg, self.base = cfg, base
        self.actor = base.batched_actor(venv.num_envs, cfg.decay)
        self.num_timesteps = 0
        self._rng = np.random.default_rng(seed)
        self._use = np.ones(venv.num_envs, bool)  # progressive exploration: the residual acts in env i
        self._base = np.zeros((venv.num_envs, base.act_dim))
        self._correction = np.zeros((venv.num_envs, base.act_dim), np.float32)

    def residual_probability(self) -> float:
        """The chance that an episode starting now uses the residual (progressive exploration)."""
        h = self.cfg.progressive_steps
        return 1.0 if h <= 0 else min(self.num_timesteps / h, 1.0)

    def _start_episodes(self, envs) -> None:
        p = self.residual_probability()
        for i in envs:
            self._use[i] = p >= 1.0 or self._rng.random() < p

    def _observe(self, obs):
        self._base = self.actor(obs)
        return augment(obs, self._base) if self.cfg.observe_base else obs

    def reset(self):
        obs = self.venv.reset()
        self.actor.reset()
        self._start_episodes(range(self.num_envs))
        return self._observe(obs)

    def step_async(self, actions: np.ndarray) -> None:
        self._correction = np.asarray(actions, np.float32).reshape(self.num_envs, -1) * self._use[:, None]
        self.venv.step_async(combine(self._base, self._correction, self.cfg.scale))

    def step_wait(self):
        n, decided = self.num_envs, self._base  # the base actions the learner saw when it decided
        full_cost = correction_cost(self._correction, self.cfg.penalty)  # the same at every held step
        deciding = np.ones(n, bool)  # env i is still inside the held step it decided (no episode end yet)
        total, cost = np.zeros(n, np.float32), np.zeros(n, np.float32)
        ended, last_infos = np.zeros(n, bool), [None] * n
        for inner in range(self.cfg.hold):
            if inner > 0:  # after an episode end, the env's next episode runs on the base alone
                held = self._correction * deciding[:, None]
                self.venv.step_async(combine(self._base, held, self.cfg.scale))
            obs, rewards, dones, infos = self.venv.step_wait()
            self.num_timesteps += n
            step_cost = full_cost * deciding
            total += np.where(deciding, rewards - step_cost, 0.0).astype(np.float32)
            cost += step_cost.astype(np.float32)
            done = [i for i in range(n) if dones[i]]
            if done and self.cfg.observe_base:  # the base action at the last state, as one env would see it
                terminal = [infos[i]["terminal_observation"] for i in done]
                stacked = (
                    {k: np.stack([t[k] for t in terminal]) for k in terminal[0]}
                    if isinstance(terminal[0], dict)
                    else np.stack(terminal)
                )
                last = self.actor(stacked, envs=done)
                for row, i in enumerate(done):
                    infos[i]["terminal_observation"] = augment(terminal[row], last[row])
            self.actor.reset(done)
            self._start_episodes(done)
            for i in range(n):
                if deciding[i]:
                    last_infos[i] = infos[i]
            ended |= deciding & dones
            deciding &= ~dones
            self._base = self.actor(obs)
        for i in range(n):
            last_infos[i] = {**last_infos[i], "base_action": decided[i], "residual_cost": float(cost[i])}
        learner_obs = augment(obs, self._base) if self.cfg.observe_base else obs
        return learner_obs, total, ended, last_infos
