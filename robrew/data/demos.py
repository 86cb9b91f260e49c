"""Record scripted-expert demonstrations as a Minari dataset with subtask annotations.

Per step (Minari infos): ``subtask`` (the expert's annotated subtask of that frame),
``stage`` (the env's ground-truth stage), ``is_success`` and ``frame`` (uint8, at the
model's resolution). Frame t is the observation after t actions; frame 0 is the reset.
Per episode (``robrew_annotations.json`` beside Minari's files): instruction, subtask
names, quality knobs, success, and ``off_task_from``: the first frame of a deliberate
failure (the expert heading for the wrong pad or block), or null.

Example:
    >>> root = collect_demos("tabletop_pick_place", "data", episodes=30, mix=DEFAULT_MIX, seed=0)
    >>> demos = load_demos(root)
    >>> demos[0].subtask[:5], demos[0].instruction
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from robrew.envs.tabletop.expert import ExpertConfig

if TYPE_CHECKING:
    from robrew.taskspec import TaskSpec

ANNOTATIONS = "robrew_annotations.json"

#: Mixed-quality demonstrations: about a third clean, a third sloppy, a third failing.
DEFAULT_MIX: dict[str, tuple[float, ExpertConfig]] = {
    "clean": (1 / 3, ExpertConfig()),
    "sloppy": (1 / 3, ExpertConfig(noise=0.35, hesitation=0.6, regrasp=0.5)),
    "failing": (1 / 3, ExpertConfig(noise=0.1, fail=1.0)),
}


#: Quality name of exploration episodes (they never attempt the task).
EXPLORE = "explore"


def mix_with_exploration(
    fraction: float, mix: dict[str, tuple[float, ExpertConfig]] | None = None
) -> dict[str, tuple[float, ExpertConfig]]:
    """``mix`` (default :data:`DEFAULT_MIX`) scaled to ``1 - fraction``, plus ``fraction`` of
    exploration episodes (random waypoints, annotated as no progress; see ``ExpertConfig.explore``)
    under the quality name :data:`EXPLORE`. Returns a new mix for :func:`collect_demos`;
    raises ``ValueError`` unless ``0 <= fraction < 1``.

    Example:
        >>> sorted(mix_with_exploration(0.25))
        ['clean', 'explore', 'failing', 'sloppy']
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"the exploration fraction must be in [0, 1), got {fraction}")
    mix = mix or DEFAULT_MIX
    if fraction == 0:
        return dict(mix)
    total = sum(f for f, _ in mix.values())
    scaled = {name: (f / total * (1.0 - fraction), config) for name, (f, config) in mix.items()}
    return {**scaled, EXPLORE: (fraction, ExpertConfig(explore=1.0))}


class DatasetError(ValueError):
    """A demonstration dataset is missing, corrupt, or lacks annotations; says which and how to fix."""


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


@contextmanager
def _minari_root(root: Path):
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


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


def dataset_env(path: str | os.PathLike) -> dict | None:
    """The env a dataset's rewards were recorded in (``{"id", "kwargs"}``), from its annotations;
    for datasets written before it was recorded, from its shipped task name; else ``None``."""
    from robrew.taskspec import TaskSpecError, load_task

    try:
        ann = json.loads((Path(path) / ANNOTATIONS).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if isinstance(ann.get("env"), dict):
        return ann["env"]
    try:
        return recorded_env(load_task(ann.get("task", "")))
    except TaskSpecError:
        return None


def dataset_id(task: str) -> str:
    """Minari id of a task's demonstrations: ``robrew/<task>/expert-mixed-v0``."""
    return f"robrew/{task}/expert-mixed-v0"


def collect_demos(
    task: str,
    out_root: str | os.PathLike,
    episodes: int,
    mix: dict[str, tuple[float, ExpertConfig]] | None = None,
    seed: int = 0,
    image_size: int = 64,
    overwrite: bool = False,
    reset_options: Callable[[int], dict | None] | None = None,
    frames: bool = True,
) -> Path:
    """Records ``episodes`` expert episodes of a tabletop task into ``out_root``.

    Args:
        task: A tabletop task name (e.g. ``"tabletop_pick_place"``) or task file (its ``name``
            names the dataset; its ``env_kwargs``, e.g. ``reward: sparse``, decide the recorded reward).
        out_root: Minari datasets root; the dataset goes to ``<root>/<dataset_id(task)>``.
        episodes: Number of episodes.
        mix: Quality name -> (fraction, expert config); default :data:`DEFAULT_MIX`.
        seed: Episode i uses env seed ``seed + i`` and expert seed ``seed + i``.
        image_size: Frames are square ``image_size`` pixels (the model's resolution).
        overwrite: Replace an existing dataset of the same id (else it is an error). Either way
            the new dataset is collected beside it and swapped in only when complete: a failure
            or Ctrl-C part-way leaves the old dataset as it was.
        reset_options: ``i -> options`` for episode i's ``env.reset`` (e.g. fixed colours
            and phrasing: ``{"block": "red", "pad": "green", "template": 0}``).
        frames: Store a rendered frame per step (only frame-reading models need them; without
            them nothing renders, and the observations, annotations and flags are the same).

    Returns:
        The dataset directory.

    Raises:
        DatasetError: bad arguments, ``out_root`` is a file, the dataset exists without
            ``overwrite``, or the task has no scripted expert; nothing is written then.
    """
    from minari import DataCollector, StepDataCallback

    from robrew.env_factory import make_env
    from robrew.io import replace_dir, write_json_atomic

    mix = mix or DEFAULT_MIX
    plan = episode_plan(mix, episodes, seed)

    experts: dict[str, object] = {}

    class Annotate(StepDataCallback):
        def __call__(self, env, obs, info, action=None, rew=None, terminated=None, truncated=None):
            step = super().__call__(env, obs, info, action, rew, terminated, truncated)
            expert = experts.get("current")
            subtask = expert.phases[-1] if (expert is not None and expert.phases and action is not None) else 0
            step["info"] = {
                "subtask": np.int64(subtask),
                "stage": np.int64(info.get("stage", 0)),
                "is_success": np.bool_(info.get("is_success", False)),
            }
            if frames:
                step["info"]["frame"] = env.render()
            return step

    if episodes <= 0 or image_size <= 0:
        raise DatasetError(f"episodes and image_size must be positive, got {episodes} and {image_size}")
    root = Path(out_root).resolve()  # Minari joins a relative root twice (data/tmp/data/tmp/...)
    if root.exists() and not root.is_dir():
        raise DatasetError(f"{root} is a file; --out must be a directory (the datasets root)")
    from robrew.taskspec import load_task

    spec = load_task(task)  # a shipped name or a task file
    task = spec.name
    ds_id = dataset_id(task)
    target = root / ds_id
    if target.exists() and not overwrite:
        raise DatasetError(f"{target} exists; pass --overwrite (overwrite=True) or choose another --out")
    env = make_env(spec, render_mode="rgb_array" if frames else None, width=image_size, height=image_size)
    if not hasattr(env.unwrapped, "scene_state"):
        env.close()
        raise DatasetError(f"task {task!r} has no scripted expert (only tabletop tasks do)")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".collect-"))  # the new dataset grows here
    try:
        meta = _record(
            env,
            collector_cls=DataCollector,
            callback=Annotate,
            experts=experts,
            plan=plan,
            mix=mix,
            seed=seed,
            reset_options=reset_options,
            staging=staging,
            ds_id=ds_id,
            task=task,
        )
        annotations = {"task": task, "env": recorded_env(spec), "episodes": meta}
        write_json_atomic(staging / ds_id / ANNOTATIONS, annotations)
        replace_dir(staging / ds_id, target)
    finally:
        env.close()
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _record(env, collector_cls, callback, experts, plan, mix, seed, reset_options, staging, ds_id, task) -> list[dict]:
    """Runs the scripted experts through Minari's collector into ``staging``; returns the per-episode records."""
    from robrew.envs.tabletop.expert import ScriptedExpert

    meta = []
    with _minari_root(staging), _interrupt_between_steps() as interrupted:
        collector = collector_cls(env, step_data_callback=callback, record_infos=True, data_format="hdf5")
        for i, quality in enumerate(plan):
            if interrupted():
                raise KeyboardInterrupt
            _, info = collector.reset(seed=seed + i, options=reset_options(i) if reset_options else None)
            expert = ScriptedExpert(env, mix[quality][1], seed=seed + i)
            experts["current"] = expert
            for _ in range(env.unwrapped.horizon):
                *_, info = collector.step(expert.act())
            meta.append(
                {
                    "instruction": env.unwrapped.instruction,
                    "subtasks": env.unwrapped.subtasks,
                    "quality": quality,
                    "expert": asdict(mix[quality][1]),
                    "success": bool(info["is_success"]),
                    "off_task_from": expert.off_task_from(),
                    "colors": dict(env.unwrapped.colors),
                    "referents": env.unwrapped.referent_slots()
                    if getattr(env.unwrapped, "obs_mode", None) == "objects"
                    else None,
                }
            )
        with warnings.catch_warnings():  # Minari nags about an author e-mail and eval env
            warnings.simplefilter("ignore", UserWarning)
            collector.create_dataset(
                ds_id,
                algorithm_name="robrew scripted expert",
                author="robrew",
                description=f"{task}: mixed-quality scripted demonstrations with subtask annotations",
            )
    return meta


@contextmanager
def _interrupt_between_steps():
    """Ctrl-C during collection takes effect between episodes, not inside a native call (where
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
    """Loads a dataset written by :func:`collect_demos` (its directory).

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
        with _minari_root(target.parents[2]):
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
