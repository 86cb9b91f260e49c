"""Demonstration datasets as robrew reads them: :class:`Demo` and :func:`load_demos`, the env a
dataset's rewards were recorded in, and the checks every consumer runs on demos. Loading a
dataset imports no env (the scripted-expert collector lives in :mod:`robrew.data.collect`, the
writer every dataset path shares in :mod:`robrew.data.writer`).

Example:
    >>> demos = load_demos("data/robrew/tabletop_pick_place/expert-mixed-v0")
    >>> demos[0].subtask[:5], demos[0].instruction, dataset_env("data/robrew/tabletop_pick_place/expert-mixed-v0")
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from robrew.data.writer import ANNOTATIONS, EXPLORE, DatasetError, minari_root, recorded_env

__all__ = [
    "ANNOTATIONS",
    "EXPLORE",
    "DatasetError",
    "Demo",
    "check_demos_fit",
    "dataset_env",
    "flat_demos",
    "load_demos",
    "recorded_env",
    "require_frames",
]

#: Moved to :mod:`robrew.data.collect` (the scripted-expert collector, which imports the tabletop
#: env); these names keep working from here and warn once.
_MOVED_TO_COLLECT = ("collect_demos", "DEFAULT_MIX", "mix_with_exploration", "dataset_id")


def __getattr__(name: str):
    if name in _MOVED_TO_COLLECT:
        import importlib
        import warnings

        warnings.warn(
            f"robrew.data.demos.{name} moved to robrew.data.collect.{name} (this name will go away)",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module("robrew.data.collect"), name)
    raise AttributeError(f"module 'robrew.data.demos' has no attribute {name!r}")


@dataclass
class Demo:
    """One recorded episode (T actions, T + 1 observations and frames)."""

    observations: np.ndarray | dict[str, np.ndarray]  # float32 [T+1, D], or a dict of [T+1, ...] for Dict envs
    actions: np.ndarray  # float32 [T, A]
    rewards: np.ndarray  # float32 [T], the env's reward
    frames: np.ndarray | None  # uint8 [T+1, H, W, 3]; None when recorded without frames
    subtask: np.ndarray  # int64 [T+1], annotated subtask per frame
    stage: np.ndarray  # int64 [T+1], the env's ground-truth stage
    success: bool
    done_at: int | None  # first frame with the task complete (None if never)
    instruction: str
    subtasks: list[str]
    quality: str
    off_task_from: int | None = None  # first frame of a deliberate failure (annotated by the demonstrator)
    colors: dict | None = None  # the episode's colour assignment (block, pad, ...)
    referents: list[int] | None = None  # object-centric observations: the slots the instruction names


def dataset_env(path: str | os.PathLike) -> dict | None:
    """The env a dataset's rewards were recorded in (``{"id", "kwargs"}``), from its annotations;
    for datasets written before it was recorded, from its shipped task name; else ``None``."""
    from robrew.taskspec import TaskSpecError, load_task

    try:
        ann = json.loads((Path(path) / ANNOTATIONS).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if "env" in ann:  # null: recorded without a known env (an import, an env without a storable spec)
        return ann["env"] if isinstance(ann["env"], dict) else None
    try:
        return recorded_env(load_task(ann.get("task", "")))
    except TaskSpecError:
        return None


def _first_true(flags) -> int | None:
    if flags is None:
        return None
    hits = np.flatnonzero(np.asarray(flags, dtype=bool))
    return int(hits[0]) if hits.size else None


def _float_obs(obs) -> np.ndarray | dict[str, np.ndarray]:
    if isinstance(obs, dict):  # a Dict observation space: one array per key
        return {k: np.asarray(v, dtype=np.float32) for k, v in obs.items()}
    return np.asarray(obs, dtype=np.float32)


def flat_demos(demos: list[Demo], keys: Sequence[str] | None = None) -> tuple[list[Demo], tuple[str, ...] | None]:
    """The demos with one float32 vector per observation: Dict observations flattened through
    ``keys`` (default: every key, sorted; see :mod:`robrew.observations`), arrays as they are.

    Returns:
        The demos (copies where flattened) and the keys used (None for array observations).

    Raises:
        ValueError: a key the observations lack, or demos that mix Dict and array observations.
    """
    from robrew.observations import check_obs_keys, default_obs_keys, flatten_obs

    dicts = [isinstance(d.observations, dict) for d in demos]
    if not any(dicts):
        return demos, None
    if not all(dicts):
        raise ValueError("some demos have Dict observations and some arrays; use demos of one env")
    keys = check_obs_keys(keys) or tuple(default_obs_keys(demos[0].observations))
    return [replace(d, observations=flatten_obs(d.observations, keys)) for d in demos], keys


def check_demos_fit(demos: list[Demo], observation_space, action_space, where: str) -> None:
    """Raises :class:`DatasetError` (one line naming both sides) unless the demos' observations and
    actions have the layout of an env's spaces (``where`` names the env): Dict vs flat, the Dict's
    keys, the widths.

    Example:
        >>> env = make_env("tabletop_reach_goal")
        >>> check_demos_fit(demos, env.observation_space, env.action_space, "tabletop_reach_goal")
    """
    from gymnasium import spaces

    if not demos:
        raise DatasetError("the dataset has no episodes")
    obs = demos[0].observations
    if isinstance(observation_space, spaces.Dict) != isinstance(obs, dict):
        theirs = "a Dict" if isinstance(obs, dict) else "flat arrays"
        ours = "a Dict" if isinstance(observation_space, spaces.Dict) else "flat arrays"
        raise DatasetError(
            f"the demos' observations are {theirs} but {where}'s are {ours}: record the demos in this env "
            "(robrew-collect --task <its task file>)"
        )
    if isinstance(obs, dict):
        if set(obs) != set(observation_space.spaces):
            raise DatasetError(
                f"the demos' observation keys {sorted(obs)} differ from {where}'s {sorted(observation_space.spaces)}: "
                "record the demos in this env"
            )
        widths = {k: (obs[k].shape[1:], observation_space.spaces[k].shape) for k in obs}
    else:
        widths = {"observation": (obs.shape[1:], observation_space.shape)}
    widths["action"] = (demos[0].actions.shape[1:], action_space.shape)
    for key, (theirs, ours) in widths.items():
        if tuple(theirs) != tuple(ours):
            raise DatasetError(
                f"the demos' {key} shape {tuple(theirs)} differs from {where}'s {tuple(ours)}: "
                "record the demos in this env"
            )


def require_frames(demos: list[Demo], who: str) -> None:
    """Raises :class:`DatasetError` when ``who`` (a frame-based model) meets demos without frames."""
    if any(d.frames is None for d in demos):
        raise DatasetError(
            f"{who} reads frames, but these demonstrations were recorded without them: record with "
            "frames=True (robrew-collect --frames) or use an observation-based model (encoder=state)"
        )


def load_demos(path: str | os.PathLike) -> list[Demo]:
    """Loads a dataset (its directory) written by :func:`~robrew.data.collect.collect_demos`,
    :func:`~robrew.data.record.record_demos` or :func:`~robrew.data.lerobot.import_lerobot`.

    Raises:
        DatasetError: the directory is not a dataset, it is corrupt, or annotations are missing.
    """
    target = Path(path)
    ann_path = target / ANNOTATIONS
    if not (target / "data").is_dir():
        raise DatasetError(f"{target}: not a Minari dataset directory (no data/); collect one with robrew-collect")
    if not ann_path.is_file():
        raise DatasetError(
            f"{ann_path}: missing; the dataset has no robrew subtask annotations (re-collect with robrew-collect)"
        )
    try:
        annotations = json.loads(ann_path.read_text())["episodes"]
    except (json.JSONDecodeError, KeyError) as e:
        raise DatasetError(f"{ann_path}: corrupt annotations ({e}); re-collect the dataset") from None
    import minari

    ds_id = "/".join(target.parts[-3:])
    try:
        with minari_root(target.parents[2]):
            dataset = minari.load_dataset(ds_id)
            episodes = list(dataset.iterate_episodes())
    except Exception as e:  # h5py/minari raise many types for damaged files
        raise DatasetError(
            f"{target}: cannot read the Minari data ({type(e).__name__}: {e}); re-collect the dataset"
        ) from None
    if len(episodes) != len(annotations):
        raise DatasetError(f"{target}: {len(episodes)} episodes but {len(annotations)} annotation records; re-collect")
    demos = []
    for ep, meta in zip(episodes, annotations):
        if "subtask" not in ep.infos:
            raise DatasetError(f"{target}: episode {ep.id} lacks per-step subtask annotations")
        demos.append(
            Demo(
                observations=_float_obs(ep.observations),
                actions=np.asarray(ep.actions, dtype=np.float32),
                rewards=np.asarray(ep.rewards, dtype=np.float32),
                frames=np.asarray(ep.infos["frame"], dtype=np.uint8) if "frame" in ep.infos else None,
                subtask=np.asarray(ep.infos["subtask"], dtype=np.int64),
                stage=np.asarray(ep.infos["stage"], dtype=np.int64),
                success=bool(meta["success"]),
                done_at=_first_true(ep.infos.get("is_success")),
                instruction=meta["instruction"],
                subtasks=list(meta["subtasks"]),
                quality=meta["quality"],
                off_task_from=meta.get("off_task_from"),
                colors=meta.get("colors"),
                referents=meta.get("referents"),
            )
        )
    return demos
