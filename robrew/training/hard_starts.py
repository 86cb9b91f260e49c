"""Hard starts: a residual learner trains more often on the layouts where its base policy fails.

A base policy that succeeds on ~92% of layouts gives a sparse-reward learner about two failing
episodes per PPO update, and its credit is spread over a hundred steps: the signal that a
correction helped is rare. Hard starts probe the base policy alone (a zero residual,
deterministic) on ``probe`` initial layouts with seeds :data:`PROBE_SEED`, ``PROBE_SEED + 1``, ...
(disjoint from the evaluation seeds), keep the layouts it fails on, and start each training
episode on one of them with probability ``probability``, else on a fresh layout. Evaluation is
untouched: it still runs its own fixed seeds.

With ``start=stall`` the learner takes over mid-episode, ``lead`` steps before the base policy's
final stall on that layout (the last stretch of at least :data:`MIN_STILL` steps in which no
observation value moves by ``still`` or more; a failure without one starts at the reset): the
wrapper replays the base policy's own actions up to there, which reproduces the probe's states
exactly (env and base policy are deterministic), so every hard episode starts where a correction
must happen and its credit has few steps to spread over.

In: the run's config (``algo.residual.hard_starts``, its base policy and task). Out: the failing
seeds (and hand-over steps), saved as ``<run>/hard_starts.json`` and reused when the run is
resumed; :class:`HardStarts`, the Gymnasium wrapper that picks each training episode's seed; and
:class:`HardStartLogging`, which logs the success of the hard-start episodes alone
(``train/hard_start_success_rate``).

Example:
    >>> record = probe_failures(cfg, spec)   # {"failed_seeds": [1000012, ...], "start_steps": [0, ...]}
    >>> env = HardStarts(make_env(spec), record["failed_seeds"], probability=0.5)
    >>> obs, info = env.reset(seed=0)              # info["hard_start"]: True on a failing layout
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from robrew.agents.residual import HardStartAt, batch_of_one, combine
from robrew.metrics.rollouts import run_episodes, success_rate
from robrew.runs import TrainConfig, env_observation_fn, load_base_policy, make_run_env
from robrew.taskspec import TaskSpec

PROBE_SEED = 1_000_000  # the probe's first layout (evaluation uses 10_000 + seed and 20_000 + i)
FRESH_SEEDS = (2**30, 2**31 - 1)  # a fresh training layout's seed is drawn from this range
HARD_STARTS_FILE = "hard_starts.json"
MIN_STILL = 10  # steps without motion that make a stall

__all__ = [
    "HARD_STARTS_FILE",
    "MIN_STILL",
    "PROBE_SEED",
    "HardStartLogging",
    "HardStarts",
    "base_replay",
    "hard_start_seeds",
    "probe_failures",
    "stall_start",
]


class HardStarts(gym.Wrapper):
    """Starts each episode on one of ``seeds`` with probability ``probability``, else on a fresh
    layout; ``info["hard_start"]`` says which. The wrapper draws every episode's seed from its own
    generator (seeded by the first ``reset(seed=...)``), so a run is reproducible and envs seeded
    differently draw different sequences.

    With ``start_steps`` (one per seed) and ``replay`` (the base policy: observation -> env
    action, with ``reset()``), a hard start first steps ``replay`` for that many steps and hands
    the episode over there (``info["hard_start_step"]``).

    Raises:
        ValueError: ``probability`` outside [0, 1], > 0 with no seeds, or ``start_steps`` that do
            not fit ``seeds`` or come without ``replay``.
    """

    def __init__(
        self,
        env: gym.Env,
        seeds: list[int],
        probability: float,
        start_steps: list[int] | None = None,
        replay: Callable | None = None,
    ):
        super().__init__(env)
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"hard-start probability must be in [0, 1], got {probability}")
        if probability > 0 and not seeds:
            raise ValueError("hard starts need at least one seed to start from")
        if start_steps is not None and (len(start_steps) != len(seeds) or replay is None):
            raise ValueError("hard starts' start_steps need one step per seed and a replay policy")
        self.seeds, self.probability = [int(s) for s in seeds], float(probability)
        self.start_steps = [int(k) for k in start_steps] if start_steps is not None else [0] * len(self.seeds)
        self.replay = replay
        self._rng: np.random.Generator | None = None
        self._hard = False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(seed)
        hard = self.probability > 0 and self._rng.random() < self.probability
        i = int(self._rng.integers(len(self.seeds))) if hard else None
        chosen = self.seeds[i] if hard else int(self._rng.integers(*FRESH_SEEDS))
        obs, info = self.env.reset(seed=chosen, options=options)
        steps = self.start_steps[i] if hard else 0
        if steps:
            self.replay.reset()
            for _ in range(steps):
                obs, _, terminated, truncated, step_info = self.env.step(self.replay(obs))
                if terminated or truncated:  # cannot happen on a probed failure; start afresh if it does
                    obs, info = self.env.reset(seed=chosen, options=options)
                    steps = 0
                    break
                info = {**info, **step_info}
        self._hard = bool(hard)
        return obs, {**info, "hard_start": self._hard, "hard_start_step": steps}

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["hard_start"] = self._hard  # the env's own fresh dict: no copy per step
        return obs, reward, terminated, truncated, info


class HardStartLogging(BaseCallback):
    """Logs the ground-truth success of the last ``window`` training episodes that began with a
    hard start (``info["hard_start"]`` on their last step): ``train/hard_start_success_rate``, what
    the learner makes of the base policy's failures (fresh layouts are in
    ``reward/true_success_rate`` with them)."""

    def __init__(self, window: int = 100):
        super().__init__()
        self.episodes: deque[float] = deque(maxlen=window)

    def _on_step(self) -> bool:
        ended = [
            float(info.get("is_success", False))
            for info, done in zip(self.locals["infos"], self.locals["dones"])
            if done and info.get("hard_start")
        ]
        self.episodes.extend(ended)
        if ended:
            self.logger.record("train/hard_start_success_rate", float(np.mean(self.episodes)))
        return True


def stall_start(observations: list[np.ndarray], still: float, lead: int) -> int:
    """The step at which a learner takes over an episode of ``observations`` (after each step):
    ``lead`` steps before its final stretch of >= :data:`MIN_STILL` still steps (no value moving by
    ``still`` or more), or 0 without one.

    Example:
        >>> stall_start([np.r_[t] for t in (1, 2, 3)] + [np.r_[3.0]] * 12, still=1e-4, lead=1)
        2
    """
    obs = np.asarray(observations, np.float64)
    moving = np.abs(np.diff(obs, axis=0)).max(axis=1) >= still  # moving[i]: between step i+1 and i+2
    if not moving.any():
        return 0  # still from the first step on: the stall starts at the reset
    last = int(np.flatnonzero(moving)[-1]) + 1  # still diffs from here on
    if len(moving) - last < MIN_STILL:
        return 0
    return max(0, last + 1 - lead)  # the stalled state is the observation after step last + 1


def base_replay(cfg: TrainConfig):
    """The run's base policy as a hard start replays it: observation -> the env action a zero
    residual sends (:func:`~robrew.agents.residual.combine`), ``reset()`` per episode, acting
    exactly as :class:`~robrew.agents.residual.ResidualAction` does."""
    residual, base = cfg.algo.residual, load_base_policy(cfg)
    actor, zero = base.batched_actor(1, residual.decay), np.zeros(base.act_dim, np.float32)

    class _Replay:
        def reset(self):
            actor.reset()

        def __call__(self, obs):
            return combine(actor(batch_of_one(obs))[0], zero, residual.scale)

    return _Replay()


def probe_failures(cfg: TrainConfig, spec: TaskSpec) -> dict:
    """Runs the base policy alone (a zero residual, deterministic) on ``hard_starts.probe``
    layouts and returns ``{"probe_first_seed", "probe_episodes", "start", "base_success",
    "failed_seeds", "start_steps", "wall_s"}`` (``start_steps``: per failed seed, the step a
    hard start hands over at; all 0 with ``start=reset``).

    Raises:
        ValueError: the run has no base policy.
    """
    base = load_base_policy(cfg)
    if base is None:
        raise ValueError("hard starts need a base policy (finetune=<robrew-rabc dir> or algo.base_policy)")
    hs = cfg.algo.residual.hard_starts
    n, zero = hs.probe, np.zeros(base.act_dim, np.float32)
    stall = HardStartAt(hs.start) == HardStartAt.stall
    start = time.perf_counter()
    episodes = run_episodes(
        lambda render: make_run_env(spec, cfg, render),
        lambda obs: zero,
        n,
        PROBE_SEED,
        label=(lambda info: 0.0) if stall else None,  # keeps every step's observation
        model_obs=env_observation_fn(cfg),
    )
    failed = [(PROBE_SEED + i, e) for i, e in enumerate(episodes) if not e.success]
    return {
        "probe_first_seed": PROBE_SEED,
        "probe_episodes": n,
        "start": str(hs.start),
        "base_success": success_rate([e.success for e in episodes]),
        "failed_seeds": [seed for seed, _ in failed],
        "start_steps": [stall_start(e.observations, hs.still, hs.lead) if stall else 0 for _, e in failed],
        "wall_s": time.perf_counter() - start,
    }


def hard_start_seeds(cfg: TrainConfig, spec: TaskSpec, run_dir: Path) -> dict | None:
    """The run's hard starts: ``None`` when off; else the record of :func:`probe_failures`, read
    from ``<run_dir>/hard_starts.json`` when a resumed run has one for the same probe (the caller
    writes a new one), probed otherwise. Prints one line with the base's probe success."""
    hs = cfg.algo.residual.hard_starts
    if hs.probability <= 0:
        return None
    path = Path(run_dir) / HARD_STARTS_FILE
    if cfg.resume and path.is_file():
        record = json.loads(path.read_text())
        same = (record.get("probe_episodes"), record.get("probe_first_seed"), record.get("start", "reset"))
        if same == (hs.probe, PROBE_SEED, str(hs.start)) and "start_steps" in record:
            return record
    record = probe_failures(cfg, spec)
    failed, rate = len(record["failed_seeds"]), record["base_success"]["mean"]
    if not failed:
        uses = "nothing to start on, every episode starts on a fresh layout"
    else:
        uses = f"{hs.probability:.0%} of training episodes start on them"
        if HardStartAt(hs.start) == HardStartAt.stall:
            uses += f", handed over at step {int(np.median(record['start_steps']))} (median)"
    print(
        f"hard starts: the base failed {failed} of {hs.probe} probe layouts (success {rate:.1%}, "
        f"{record['wall_s']:.0f} s); {uses}",
        flush=True,
    )
    return record
