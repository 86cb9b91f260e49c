"""One dataset writer behind every way robrew makes demonstrations: the scripted experts'
collection (:mod:`robrew.data.collect`), recording any policy (:mod:`robrew.data.record`) and
LeRobot import (:mod:`robrew.data.lerobot`). Episodes in, a dataset directory out.

A dataset is Minari's data (HDF5) plus ``robrew_annotations.json``: the task name, the env its
rewards were recorded in (``{"id", "kwargs"}``, or ``null`` where there was no env, e.g. an
import) and one record per episode. The writer refuses a bad target before any work
(:func:`dataset_target`), streams the episodes into a staging directory beside the target as they
come and swaps the finished dataset in whole (:func:`write_dataset`): a failure or Ctrl-C part-way
leaves an old dataset as it was. :func:`record_episode` turns one rollout into the episode the
writer takes (T + 1 observations and per-step infos, T actions).

Example:
    >>> target = dataset_target("data", "robrew/pusher/recorded-v0", overwrite=False)   # refusals first
    >>> def episodes():
    ...     for i in range(20):
    ...         buffer, info = record_episode(env, policy, seed=i, annotate=lambda env, obs, info, action: {})
    ...         yield buffer, {"instruction": "", "success": bool(info.get("is_success"))}
    >>> write_dataset(target, episodes(), {"task": "pusher", "env": env_record(env)}, env)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from robrew.io import replace_dir, write_json_atomic

if TYPE_CHECKING:
    import gymnasium as gym
    from minari.data_collector import EpisodeBuffer

    from robrew.taskspec import TaskSpec

ANNOTATIONS = "robrew_annotations.json"
#: Quality name of exploration episodes (they never attempt the task; progress labels them 0).
EXPLORE = "explore"
MAX_EPISODE_STEPS = 1_000_000  # an episode without a time limit or max_steps stops here, as an error

__all__ = [
    "ANNOTATIONS",
    "EXPLORE",
    "DatasetError",
    "dataset_target",
    "env_record",
    "episode_plan",
    "interrupt_between_steps",
    "minari_root",
    "record_episode",
    "recorded_env",
    "write_dataset",
]


class DatasetError(ValueError):
    """A demonstration dataset is missing, corrupt, or lacks annotations; says which and how to fix."""


def dataset_target(out_root: str | os.PathLike, ds_id: str, overwrite: bool) -> Path:
    """``<out_root>/<ds_id>``, checked before any work: ``out_root`` is not a file, and the dataset
    does not exist unless ``overwrite``.

    Raises:
        DatasetError: either check fails.
    """
    root = Path(out_root).resolve()  # Minari joins a relative root twice (data/tmp/data/tmp/...)
    if root.exists() and not root.is_dir():
        raise DatasetError(f"{root} is a file; the output must be a directory (the datasets root)")
    target = root / ds_id
    if target.exists() and not overwrite:
        raise DatasetError(f"{target} exists; pass --overwrite (overwrite=True) or choose another name or --out")
    return target


def episode_plan(mix: dict[str, tuple[float, object]], episodes: int, seed: int) -> list[str]:
    """The quality name of each of ``episodes`` episodes: ``mix``'s fractions (name -> (fraction,
    anything)) rounded down, the remainder to the first name, shuffled with ``seed``.

    Example:
        >>> episode_plan({"clean": (0.5, None), "noisy": (0.5, None)}, 4, seed=0)   # two of each, shuffled
    """
    names = list(mix)
    fractions = np.array([mix[n][0] for n in names], dtype=np.float64)
    counts = np.floor(fractions / fractions.sum() * episodes + 1e-9).astype(int)  # 13/90 * 90 is 12.99...
    counts[0] += episodes - counts.sum()
    plan = [n for n, c in zip(names, counts) for _ in range(c)]
    np.random.default_rng(seed).shuffle(plan)
    return plan


def recorded_env(spec: TaskSpec) -> dict:
    """A task's env as a dataset records it (where its rewards came from): ``{"id": env_id,
    "kwargs": env_kwargs}``, e.g. ``{"id": "robrew/TabletopReach-v0", "kwargs": {"reward": "sparse"}}``."""
    return {"id": spec.env_id, "kwargs": dict(spec.env_kwargs)}


def env_record(env: gym.Env) -> dict | None:
    """The env a dataset's rewards come from, as ``robrew_annotations.json`` records it: ``{"id":
    spec id, "kwargs": its registration and make arguments, without render settings}``; ``None``
    for an env without a storable spec (say so to the user: the demo-reward check cannot run)."""
    spec = _storable_spec(env)
    if spec is None:
        return None
    drop = {"render_mode", "width", "height"}
    return {"id": spec.id, "kwargs": {k: v for k, v in (spec.kwargs or {}).items() if k not in drop}}


def _tree(items: list) -> Any:
    """Per-step values -> Minari's episode layout: a list, or a dict of lists for dict values."""
    if items and isinstance(items[0], dict):
        return {k: _tree([item[k] for item in items]) for k in items[0]}
    return items


def record_episode(
    env: gym.Env,
    act: Callable[[Any], np.ndarray],
    seed: int | None,
    annotate: Callable[[gym.Env, Any, dict, np.ndarray | None], dict],
    options: dict | None = None,
    max_steps: int | None = None,
) -> tuple[EpisodeBuffer, dict, dict]:
    """Rolls one episode out: ``env.reset(seed=seed, options=options)``, then ``act(obs)`` until the
    env ends the episode (or ``max_steps``: the episode is stored cut, its last step truncated).

    Args:
        annotate: ``(env, obs, info, action) -> {name: value}``, the per-step infos stored (``action``
            is ``None`` at the reset).

    Returns:
        (the episode as Minari stores it, the reset's env info, the last step's env info).

    Raises:
        DatasetError: the episode ran :data:`MAX_EPISODE_STEPS` steps without ending.
    """
    from minari.data_collector import EpisodeBuffer

    obs, first = env.reset(seed=seed, options=options)
    observations, infos = [obs], [annotate(env, obs, first, None)]
    actions, rewards, terminations, truncations = [], [], [], []
    while True:
        action = act(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        observations.append(obs)
        actions.append(action)
        rewards.append(reward)
        terminations.append(bool(terminated))
        infos.append(annotate(env, obs, info, action))
        if not terminated and not truncated and max_steps is not None and len(actions) >= max_steps:
            truncated = True  # cut here, stored as it is
        truncations.append(bool(truncated))
        if terminated or truncated:
            break
        if len(actions) >= MAX_EPISODE_STEPS:
            raise DatasetError(f"an episode ran {MAX_EPISODE_STEPS:,} steps without ending: pass max_steps")
    buffer = EpisodeBuffer(
        seed=seed,
        options=options,
        observations=_tree(observations),
        actions=_tree(actions),
        rewards=rewards,
        terminations=terminations,
        truncations=truncations,
        infos=_tree(infos),
    )
    return buffer, first, info


def write_dataset(
    target: Path,
    episodes: Iterable[tuple[EpisodeBuffer, dict]],
    header: dict,
    env: gym.Env | None = None,
    observation_space: gym.Space | None = None,
    action_space: gym.Space | None = None,
    algorithm: str = "robrew",
    description: str = "",
) -> Path:
    """Writes ``episodes`` (``(buffer, annotation record)`` pairs, consumed one by one as they come)
    as the dataset ``target`` (from :func:`dataset_target`) and swaps it in once complete.

    Args:
        header: The annotations besides the episodes' records: ``{"task": name, "env": env_record}``.
        env: The env the episodes come from (its spaces and, when storable, its spec go into
            Minari's metadata); else give ``observation_space`` and ``action_space``.

    Returns:
        ``target``.
    """
    from minari import create_dataset_from_buffers

    ds_id = "/".join(target.parts[-3:])
    root = target.parents[2]
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".write-"))  # the new dataset grows here
    records: list[dict] = []

    def buffers() -> Iterator[EpisodeBuffer]:
        for buffer, record in episodes:
            records.append(record)
            yield buffer

    try:
        with minari_root(staging), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Minari nags about an author e-mail and eval env
            create_dataset_from_buffers(
                ds_id,
                buffers(),
                env=_storable(env) if env is not None else None,
                observation_space=observation_space,
                action_space=action_space,
                algorithm_name=algorithm,
                author="robrew",
                description=description,
                data_format="hdf5",
            )
        write_json_atomic(staging / ds_id / ANNOTATIONS, {**header, "episodes": records})
        replace_dir(staging / ds_id, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _storable_spec(env: gym.Env):
    """``env``'s spec, or ``None`` without one or when it cannot be stored as JSON (a registration
    with a callable entry point, as Meta-World's)."""
    spec = getattr(env, "spec", None)
    try:
        return spec if spec is not None and spec.to_json() else None
    except (ValueError, TypeError):
        return None


def _storable(env: gym.Env) -> gym.Env:
    """``env`` as Minari can store it: its spec hidden when :func:`_storable_spec` has none."""
    import gymnasium as gym

    class WithoutSpec(gym.Wrapper):
        @property
        def spec(self):
            return None

    return env if _storable_spec(env) is not None or env.spec is None else WithoutSpec(env)


@contextmanager
def minari_root(root: str | os.PathLike):
    """Points Minari's datasets root (``MINARI_DATASETS_PATH``) at ``root`` for the block."""
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


@contextmanager
def interrupt_between_steps():
    """Ctrl-C during recording takes effect between episodes, not inside a native call (where
    it turns into a ctypes error mid-render). Yields a function that says whether it came."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    seen = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        yield lambda: bool(seen)
    finally:
        signal.signal(signal.SIGINT, previous)
