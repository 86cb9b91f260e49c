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
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np

from robrew.data.demos import (
    ANNOTATIONS,
    DatasetError,
    _interrupt_between_steps,
    _minari_root,
    episode_plan,
)
from robrew.io import replace_dir

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

    Returns:
        The dataset directory.

    Raises:
        DatasetError: bad arguments, a stage outside ``subtasks``, an episode that never ends
            (no time limit and no ``max_steps``), or the dataset exists without ``overwrite``;
            nothing is written then.
    """
    from minari import DataCollector, StepDataCallback

    from robrew.io import write_json_atomic

    mix = mix or ({"demo": (1.0, policy)} if policy is not None else None)
    if not mix:
        raise DatasetError("give a policy or a mix of policies to record")
    if episodes <= 0 or any(f <= 0 for f, _ in mix.values()) or (max_steps is not None and max_steps <= 0):
        raise DatasetError("episodes, max_steps and every mix fraction must be positive")
    if not name or any(not (c.isalnum() or c in "_-") for c in name):
        raise DatasetError(f"dataset name {name!r}: use letters, digits, '_' and '-'")
    subtasks = list(subtasks) if subtasks else ["complete the task"]
    root = Path(out_root).resolve()
    if root.exists() and not root.is_dir():
        raise DatasetError(f"{root} is a file; out_root must be a directory (the datasets root)")
    ds_id = recorded_dataset_id(name)
    target = root / ds_id
    if target.exists() and not overwrite:
        raise DatasetError(f"{target} exists; pass overwrite=True (--overwrite) or choose another name")
    plan = episode_plan(mix, episodes, seed)

    def stage_of(obs, info) -> np.int64:
        stage = int(stage_fn(obs, info)) if stage_fn is not None else 0
        if not 0 <= stage < len(subtasks):
            raise DatasetError(f"stage_fn returned {stage}, but there are {len(subtasks)} subtasks {subtasks}")
        return np.int64(stage)

    class Annotate(StepDataCallback):
        def __call__(self, env, obs, info, action=None, rew=None, terminated=None, truncated=None):
            step = super().__call__(env, obs, info, action, rew, terminated, truncated)
            step["info"] = {
                "subtask": stage_of(obs, info),
                "stage": stage_of(obs, info),
                "is_success": np.bool_(bool(info.get("is_success", False))),
                **({"frame": np.asarray(env.render(), np.uint8)} if frames else {}),
            }
            return step

    env = _storable(env_fn(frames))
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".record-"))
    try:
        meta = []
        with _minari_root(staging), _interrupt_between_steps() as interrupted:
            collector = DataCollector(env, step_data_callback=Annotate, record_infos=True, data_format="hdf5")
            for i, quality in enumerate(plan):
                if interrupted():
                    raise KeyboardInterrupt
                act = mix[quality][1]
                obs, info = collector.reset(seed=seed + i)
                if hasattr(act, "reset"):
                    act.reset()
                said = info.get("instruction")
                for _ in range(max_steps or 1_000_000):  # an episode cut by max_steps is stored as it is
                    obs, _, terminated, truncated, info = collector.step(act(obs))
                    if terminated or truncated:
                        break
                else:
                    if max_steps is None:
                        raise DatasetError("an episode ran 1,000,000 steps without ending: pass max_steps")
                meta.append(
                    {
                        "instruction": instruction or info.get("instruction") or said or "",
                        "subtasks": subtasks,
                        "quality": quality,
                        "success": bool(info.get("is_success", False)),
                        "off_task_from": None,
                    }
                )
            with warnings.catch_warnings():  # Minari nags about an author e-mail and eval env
                warnings.simplefilter("ignore", UserWarning)
                collector.create_dataset(
                    ds_id, algorithm_name="recorded policy", author="robrew", description=f"{name}: recorded episodes"
                )
        write_json_atomic(staging / ds_id / ANNOTATIONS, {"task": name, "episodes": meta})
        replace_dir(staging / ds_id, target)
    finally:
        env.close()
        shutil.rmtree(staging, ignore_errors=True)
    return target


class _WithoutSpec(gym.Wrapper):
    """Hides an env spec that cannot be stored (Minari writes the spec as JSON; a registration
    with a callable entry point, as Meta-World's, cannot be)."""

    @property
    def spec(self):
        return None


def _storable(env: gym.Env) -> gym.Env:
    try:
        if env.spec is not None:
            env.spec.to_json()
    except ValueError:
        return _WithoutSpec(env)
    return env


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
