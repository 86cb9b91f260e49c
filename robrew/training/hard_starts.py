"""Hard starts: a residual learner trains more often on the layouts where its base policy fails.

A base policy that succeeds on ~92% of layouts gives a sparse-reward learner about two failing
episodes per PPO update, and its credit is spread over a hundred steps: the signal that a
correction helped is rare. Hard starts probe the base policy alone (a zero residual,
deterministic) on ``probe`` initial layouts with seeds :data:`PROBE_SEED`, ``PROBE_SEED + 1``, ...
(disjoint from the evaluation seeds), keep the layouts it fails on, and start each training
episode on one of them with probability ``probability``, else on a fresh layout. Evaluation is
untouched: it still runs its own fixed seeds.

In: the run's config (``algo.residual.hard_starts``, its base policy and task). Out: the failing
seeds, saved as ``<run>/hard_starts.json`` and reused when the run is resumed, and
:class:`HardStarts`, the Gymnasium wrapper that picks each training episode's seed.

Example:
    >>> seeds = probe_failures(cfg, spec)          # e.g. [1000012, 1000057, ...]: 41 of 500 layouts
    >>> env = HardStarts(make_env(spec), seeds, probability=0.5)
    >>> obs, info = env.reset(seed=0)              # info["hard_start"]: True on a failing layout
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from robrew.metrics.rollouts import run_episodes, success_rate
from robrew.runs import TrainConfig, load_base_policy, make_run_env
from robrew.taskspec import TaskSpec

PROBE_SEED = 1_000_000  # the probe's first layout (evaluation uses 10_000 + seed and 20_000 + i)
FRESH_SEEDS = (2**30, 2**31 - 1)  # a fresh training layout's seed is drawn from this range
HARD_STARTS_FILE = "hard_starts.json"

__all__ = ["HARD_STARTS_FILE", "PROBE_SEED", "HardStarts", "hard_start_seeds", "probe_failures"]


class HardStarts(gym.Wrapper):
    """Starts each episode on one of ``seeds`` with probability ``probability``, else on a fresh
    layout; ``info["hard_start"]`` says which. The wrapper draws every episode's seed from its own
    generator (seeded by the first ``reset(seed=...)``), so a run is reproducible and envs seeded
    differently draw different sequences.

    Raises:
        ValueError: ``probability`` outside [0, 1], or > 0 with no seeds.
    """

    def __init__(self, env: gym.Env, seeds: list[int], probability: float):
        super().__init__(env)
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"hard-start probability must be in [0, 1], got {probability}")
        if probability > 0 and not seeds:
            raise ValueError("hard starts need at least one seed to start from")
        self.seeds, self.probability = [int(s) for s in seeds], float(probability)
        self._rng: np.random.Generator | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(seed)
        hard = self.probability > 0 and self._rng.random() < self.probability
        chosen = self.seeds[self._rng.integers(len(self.seeds))] if hard else int(self._rng.integers(*FRESH_SEEDS))
        obs, info = self.env.reset(seed=chosen, options=options)
        return obs, {**info, "hard_start": bool(hard)}


def probe_failures(cfg: TrainConfig, spec: TaskSpec) -> dict:
    """Runs the base policy alone (a zero residual, deterministic) on ``hard_starts.probe``
    layouts and returns ``{"probe_first_seed", "probe_episodes", "base_success", "failed_seeds",
    "wall_s"}``.

    Raises:
        ValueError: the run has no base policy.
    """
    base = load_base_policy(cfg)
    if base is None:
        raise ValueError("hard starts need a base policy (finetune=<robrew-rabc dir> or algo.base_policy)")
    n, zero = cfg.algo.residual.hard_starts.probe, np.zeros(base.act_dim, np.float32)
    start = time.perf_counter()
    episodes = run_episodes(lambda render: make_run_env(spec, cfg, render), lambda obs: zero, n, PROBE_SEED)
    return {
        "probe_first_seed": PROBE_SEED,
        "probe_episodes": n,
        "base_success": success_rate([e.success for e in episodes]),
        "failed_seeds": [PROBE_SEED + i for i, e in enumerate(episodes) if not e.success],
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
        if record.get("probe_episodes") == hs.probe and record.get("probe_first_seed") == PROBE_SEED:
            return record
    record = probe_failures(cfg, spec)
    failed, rate = len(record["failed_seeds"]), record["base_success"]["mean"]
    print(
        f"hard starts: the base failed {failed} of {hs.probe} probe layouts (success {rate:.1%}, "
        f"{record['wall_s']:.0f} s); "
        + (
            f"{hs.probability:.0%} of training episodes start on them"
            if failed
            else "nothing to start on, every episode starts on a fresh layout"
        ),
        flush=True,
    )
    return record
