"""Record demonstrations from any Gymnasium env and any policy, in robrew's demo layout (Minari
data + ``robrew_annotations.json``, read by :func:`robrew.data.demos.load_demos`).

What robrew's own collector needs a scripted expert for is optional here: frames only when a
frame-based model will use them (``frames=True``); subtask annotations none (one stage), per
frame from ``stage_fn(obs, info) -> stage index``; the instruction from ``instruction`` or the
env's ``info["instruction"]``; success from ``info["is_success"]`` on the last step (a task file
with ``success: {kind: info_key, key: success}`` provides it for suites like Meta-World).

Example:
    >>> env_fn = lambda render: gym.make("Pusher-v5", render_mode="rgb_array" if render else None)
    >>> path = record_demos(env_fn, my_policy, "data", "pusher", episodes=20,
    ...                     mix={"clean": (0.5, my_policy), "noisy": (0.5, noisy_policy)})
    >>> demos = load_demos(path)
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np

from robrew.data.writer import (
    DatasetError,
    dataset_target,
    env_record,
    episode_plan,
    interrupt_between_steps,
    record_episode,
    write_dataset,
)

Policy = Callable[[object], np.ndarray]


#: What a failing episode of :func:`quality_mix` does.
FAILURES = ("random", "stop")


class NoisyPolicy:
    """``policy`` with Gaussian action noise (std ``noise``), clipped to the action space."""

    def __init__(self, policy: Policy, space: gym.spaces.Box, noise: float, seed: int = 0):
        self.policy, self.space, self.noise = policy, space, float(noise)
        self.rng = np.random.default_rng(seed)

    def reset(self) -> None:
        if hasattr(self.policy, "reset"):
            self.policy.reset()

    def __call__(self, obs) -> np.ndarray:
        a = np.asarray(self.policy(obs), np.float32)
        return np.clip(a + self.rng.normal(0.0, self.noise, a.shape), self.space.low, self.space.high).astype(
            np.float32
        )


class FailingPolicy:
    """A failed attempt: uniformly random actions (``"random"``), or ``policy`` for its first
    ``stop_after`` steps and the space's centre action from then on (``"stop"``: a policy stopped early)."""

    def __init__(self, policy: Policy, space: gym.spaces.Box, mode: str, stop_after: int = 10, seed: int = 0):
        if mode not in FAILURES:
            raise DatasetError(f"failing mode {mode!r}: use one of {', '.join(FAILURES)}")
        self.policy, self.space, self.mode, self.stop_after = policy, space, mode, int(stop_after)
        self.rng = np.random.default_rng(seed)
        self._t = 0

    def reset(self) -> None:
        self._t = 0
        if hasattr(self.policy, "reset"):
            self.policy.reset()

    def __call__(self, obs) -> np.ndarray:
        self._t += 1
        if self.mode == "random":
            return self.rng.uniform(self.space.low, self.space.high).astype(np.float32)
        if self._t <= self.stop_after:
            return np.asarray(self.policy(obs), np.float32)
        return ((self.space.low + self.space.high) / 2).astype(np.float32)


def parse_mix(text: str) -> dict[str, int]:
    """``"clean=20,noisy=20,failing=20"`` -> episode counts per quality (clean, noisy, failing).

    Raises:
        DatasetError: another name, a count that is not a non-negative integer, or no episode at all.
    """
    counts: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        if name not in ("clean", "noisy", "failing") or not value.isdigit():
            raise DatasetError(f"--mix {text!r}: give clean=N,noisy=N,failing=N (each optional, N >= 0)")
        counts[name] = int(value)
    if not sum(counts.values()):
        raise DatasetError(f"--mix {text!r}: no episodes")
    return {k: v for k, v in counts.items() if v > 0}


def quality_mix(
    policy: Policy,
    space: gym.Space,
    counts: dict[str, int],
    noise: float = 0.3,
    failing: str = "random",
    stop_after: int = 10,
    seed: int = 0,
) -> dict[str, tuple[float, Policy]]:
    """The ``mix`` of :func:`record_demos` for a quality mix a user would actually have: ``policy``
    as it is (clean), with action noise (noisy), and failed attempts (failing: random actions, or
    the policy stopped after ``stop_after`` steps). Fractions are the counts, so ``episodes =
    sum(counts.values())`` records exactly those counts. Success is never assumed: each episode is
    flagged by the env's ``is_success`` at its end, whatever its quality.

    Example:
        >>> mix = quality_mix(run.act, env.action_space, parse_mix("clean=20,noisy=20,failing=20"))
        >>> record_demos(run.make_env, None, "data", "kneeling", episodes=60, mix=mix)
    """
    if not isinstance(space, gym.spaces.Box):
        raise DatasetError(f"a quality mix needs a Box action space, got {space}")
    if noise < 0:
        raise DatasetError(f"noise must be >= 0, got {noise}")
    makers = {
        "clean": lambda: policy,
        "noisy": lambda: NoisyPolicy(policy, space, noise, seed),
        "failing": lambda: FailingPolicy(policy, space, failing, stop_after, seed + 1),
    }
    return {name: (float(n), makers[name]()) for name, n in counts.items()}


def recorded_dataset_id(name: str) -> str:
    """Minari id of recorded demonstrations: ``robrew/<name>/recorded-v0``."""
    return f"robrew/{name}/recorded-v0"


def record_demos(
    env_fn: Callable[[bool], gym.Env],
    policy: Policy | None,
    out_root: str | os.PathLike,
    name: str,
    episodes: int,
    mix: dict[str, tuple[float, Policy]] | None = None,
    stage_fn: Callable[[object, dict], int] | None = None,
    subtasks: Sequence[str] | None = None,
    instruction: str | None = None,
    frames: bool = False,
    seed: int = 0,
    max_steps: int | None = None,
    overwrite: bool = False,
    recorded_env: dict | None = None,
) -> Path:
    """Rolls ``policy`` (or the policies of ``mix``) out in ``env_fn``'s env and writes the episodes.

    Args:
        env_fn: ``env_fn(render)`` makes the env (``render_mode="rgb_array"`` when ``render``).
        policy: Observation -> action (its ``reset()``, if any, runs at each episode start).
        out_root: Minari datasets root; the dataset goes to ``<root>/robrew/<name>/recorded-v0``.
        name: Dataset name (letters, digits, ``_`` and ``-``).
        episodes: Number of episodes (episode i resets with seed ``seed + i``).
        mix: Quality name -> (fraction, policy), instead of ``policy`` (e.g. clean / noisy / elsewhere).
        stage_fn: ``(obs, info) -> subtask index`` for every frame; none: one stage for all.
        subtasks: Subtask names (default one, ``"complete the task"``).
        instruction: The episodes' instruction (default: the env's ``info["instruction"]``, else "").
        frames: Store a rendered frame per step (only frame-based models need them).
        max_steps: Cut episodes at this many steps (default: the env's own time limit).
        overwrite: Replace an existing dataset of this name (swapped in only once complete).
        recorded_env: The env the rewards come from, as the annotations record it (``{"id",
            "kwargs"}``, e.g. :func:`robrew.data.demos.recorded_env` of a task); default: from the
            env's spec (:func:`robrew.data.writer.env_record`; ``null`` when it has none).

    Returns:
        The dataset directory.

    Raises:
        DatasetError: bad arguments, a stage outside ``subtasks``, an episode that never ends
            (no time limit and no ``max_steps``), or the dataset exists without ``overwrite``;
            nothing is written then.
    """
    mix = mix or ({"demo": (1.0, policy)} if policy is not None else None)
    if not mix:
        raise DatasetError("give a policy or a mix of policies to record")
    if episodes <= 0 or any(f <= 0 for f, _ in mix.values()) or (max_steps is not None and max_steps <= 0):
        raise DatasetError("episodes, max_steps and every mix fraction must be positive")
    if not name or any(not (c.isalnum() or c in "_-") for c in name):
        raise DatasetError(f"dataset name {name!r}: use letters, digits, '_' and '-'")
    subtasks = list(subtasks) if subtasks else ["complete the task"]
    target = dataset_target(out_root, recorded_dataset_id(name), overwrite)
    plan = episode_plan(mix, episodes, seed)

    def stage_of(obs, info) -> np.int64:
        stage = int(stage_fn(obs, info)) if stage_fn is not None else 0
        if not 0 <= stage < len(subtasks):
            raise DatasetError(f"stage_fn returned {stage}, but there are {len(subtasks)} subtasks {subtasks}")
        return np.int64(stage)

    def annotate(env, obs, info, action) -> dict:
        return {
            "subtask": stage_of(obs, info),
            "stage": stage_of(obs, info),
            "is_success": np.bool_(bool(info.get("is_success", False))),
            **({"frame": np.asarray(env.render(), np.uint8)} if frames else {}),
        }

    env = env_fn(frames)

    def recorded():
        with interrupt_between_steps() as interrupted:
            for i, quality in enumerate(plan):
                if interrupted():
                    raise KeyboardInterrupt
                act = mix[quality][1]
                if hasattr(act, "reset"):
                    act.reset()
                buffer, first, info = record_episode(env, act, seed + i, annotate, max_steps=max_steps)
                said = info.get("instruction") or first.get("instruction") or ""
                yield (
                    buffer,
                    {
                        "instruction": instruction or said,
                        "subtasks": subtasks,
                        "quality": quality,
                        "success": bool(info.get("is_success", False)),
                        "off_task_from": None,
                    },
                )

    try:
        header = {"task": name, "env": env_record(env) if recorded_env is None else recorded_env}
        return write_dataset(
            target, recorded(), header, env, algorithm="recorded policy", description=f"{name}: recorded episodes"
        )
    finally:
        env.close()


def load_callable(ref: str):
    """``module:attr`` -> the object (a class is instantiated with no arguments: a policy factory).

    Raises:
        DatasetError: the module or attribute does not exist, or it is not callable.
    """
    import importlib

    module, _, attr = ref.partition(":")
    if not module or not attr:
        raise DatasetError(f"{ref!r}: expected module:callable, e.g. my_policies:expert")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise DatasetError(f"{ref!r}: {e}") from None
    if inspect.isclass(obj):
        obj = obj()
    if not callable(obj):
        raise DatasetError(f"{ref!r} is not callable (a policy maps an observation to an action)")
    return obj
