"""Import a LeRobot dataset (v3 layout) into robrew demonstrations.

Read from the documented layout, no ``lerobot`` package needed (its pins clash with ours):
``meta/info.json`` (fps, features, path templates), ``meta/tasks.parquet`` (task strings),
``meta/episodes/chunk-*/file-*.parquet`` (per episode: length, ``tasks``, which data and video
file holds it and from which timestamp, and SARM-style subtask annotations
``sparse_subtask_names`` / ``sparse_subtask_start_frames`` / ``sparse_subtask_end_frames`` where
present), ``data/chunk-*/file-*.parquet`` (per frame: ``observation.state``, ``action``,
``episode_index``, ``frame_index``, optional ``next.reward`` and a success column) and
``videos/<camera>/chunk-*/file-*.mp4`` (several episodes per file, decoded with imageio-ffmpeg).

An episode of T frames becomes a robrew demo of T observations and T - 1 actions; the
instruction is the episode's task; without annotations it has one stage; success is the
``success_key`` column (any frame true), else every episode counts as successful (demonstrations).

Example:
    >>> path = import_lerobot("~/.cache/huggingface/lerobot/user/pick_cube", "data", camera="observation.images.top")
    >>> demos = load_demos(path)        # then robrew-train-reward / robrew-rabc data_dir=...
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from robrew.data.writer import DatasetError, dataset_target, write_dataset

ONE_STAGE = "complete the task"


def lerobot_dataset_id(name: str) -> str:
    """Minari id of an imported LeRobot dataset: ``robrew/<name>/lerobot-v0``."""
    return f"robrew/{name}/lerobot-v0"


def _pyarrow():
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetError("reading LeRobot datasets needs pyarrow: pip install 'robrew[lerobot]'") from None
    return pq


def _table(paths: Sequence[Path]) -> dict[str, list]:
    """Parquet files -> one column dict (python lists), in file order."""
    pq = _pyarrow()
    out: dict[str, list] = {}
    for p in paths:
        for k, v in pq.read_table(p).to_pydict().items():
            out.setdefault(k, []).extend(v)
    return out


def _tasks(root: Path) -> dict[int, str]:
    if not (root / "meta" / "tasks.parquet").is_file():
        return {}
    table = _pyarrow().read_table(root / "meta" / "tasks.parquet").to_pydict()
    if "task" in table:
        return dict(zip(table["task_index"], table["task"]))
    names = table.get("__index_level_0__")  # written from a DataFrame indexed by the task string
    if names is None:
        raise DatasetError(f"{root}/meta/tasks.parquet: no task column")
    return dict(zip(table["task_index"], names))


def _video_frames(path: Path, cache: dict) -> np.ndarray:
    """Every frame of ``path`` (uint8 [N, H, W, 3]), decoded once per file."""
    if path not in cache:
        import imageio_ffmpeg

        if not path.is_file():
            raise DatasetError(f"{path}: missing video file")
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        w, h = meta["size"]
        cache.clear()  # one file at a time: files hold many episodes and can be large
        cache[path] = np.stack([np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader])
    return cache[path]


def _stages(row: dict, length: int, names: list[str] | None) -> tuple[np.ndarray, list[str] | None]:
    """Per-frame subtask index from SARM-style sparse annotations (or None without them)."""
    for prefix in ("sparse_subtask_", "subtask_"):
        ep_names = row.get(prefix + "names")
        if ep_names:
            starts, ends = row[prefix + "start_frames"], row[prefix + "end_frames"]
            break
    else:
        return np.zeros(length, np.int64), names
    names = names or list(ep_names)
    stage = np.full(length, -1, np.int64)
    inclusive = int(ends[-1]) == length - 1  # some writers store the last frame, others one past it
    for n, s, e in zip(ep_names, starts, ends):
        if n not in names:
            raise DatasetError(f"episode {row['episode_index']}: subtask {n!r} is not among {names}")
        stage[int(s) : int(e) + (1 if inclusive else 0)] = names.index(n)
    if (stage < 0).any():  # gaps: a frame keeps the subtask before it
        for t in range(length):
            stage[t] = stage[t] if stage[t] >= 0 else (stage[t - 1] if t else 0)
    return stage, names


def import_lerobot(
    root: str | os.PathLike,
    out_root: str | os.PathLike,
    name: str | None = None,
    camera: str | None = None,
    frames: bool = True,
    image_size: int | None = 64,
    state_key: str = "observation.state",
    action_key: str = "action",
    success_key: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Converts the LeRobot v3 dataset at ``root`` into robrew demos under ``out_root``.

    Args:
        root: The dataset directory (``meta/``, ``data/``, ``videos/``).
        out_root: Minari datasets root; the demos go to ``<out_root>/robrew/<name>/lerobot-v0``.
        name: Dataset name (default: ``root``'s directory name).
        camera: Video key for frames (default: the first video feature); ignored without ``frames``.
        frames: Decode frames (only frame-based reward models need them).
        image_size: Square size frames are resized to (None: as stored).
        state_key / action_key: The observation and action columns.
        success_key: A per-frame column saying success (e.g. ``next.success``); default: none, and
            every episode counts as successful.
        overwrite: Replace an existing import (swapped in only once complete).

    Returns:
        The robrew dataset directory (load it with :func:`robrew.data.demos.load_demos`).

    Raises:
        DatasetError: not a v3 LeRobot dataset, a missing file or column, or an existing import
            without ``overwrite``; nothing is written then.
    """
    import cv2
    from gymnasium import spaces
    from minari.data_collector import EpisodeBuffer

    root = Path(root).expanduser()
    try:
        info = json.loads((root / "meta" / "info.json").read_text())
    except (OSError, ValueError) as e:
        raise DatasetError(f"{root}: not a LeRobot dataset (meta/info.json: {e})") from None
    version = str(info.get("codebase_version", ""))
    if not version.startswith("v3"):
        raise DatasetError(
            f"{root}: LeRobot {version or 'unknown version'}; robrew reads the v3 layout "
            "(convert with lerobot's convert_dataset_v21_to_v30)"
        )
    features = info.get("features", {})
    for key in (state_key, action_key):
        if key not in features:
            raise DatasetError(f"{root}: no feature {key!r}; features are {sorted(features)}")
    videos = [k for k, f in features.items() if f.get("dtype") == "video"]
    if frames:
        camera = camera or (videos[0] if videos else None)
        if camera not in videos:
            raise DatasetError(f"{root}: no video feature {camera!r}; videos are {videos} (or pass frames=False)")
    name = name or root.name
    target = dataset_target(out_root, lerobot_dataset_id(name), overwrite)

    episodes = _table(sorted((root / "meta" / "episodes").glob("chunk-*/file-*.parquet")))
    if not episodes.get("episode_index"):
        raise DatasetError(f"{root}: no episodes in meta/episodes/")
    tasks = _tasks(root)
    data = _table(sorted((root / "data").glob("chunk-*/file-*.parquet")))
    for key in (state_key, action_key, "episode_index", "frame_index"):
        if key not in data:
            raise DatasetError(f"{root}: the data files have no column {key!r}")
    if success_key is not None and success_key not in data:
        raise DatasetError(f"{root}: no success column {success_key!r}; columns are {sorted(data)}")
    ep_col = np.asarray(data["episode_index"])
    fps = float(info.get("fps", 30))
    rows = [dict(zip(episodes, values)) for values in zip(*episodes.values())]
    buffers, meta, names, cache = [], [], None, {}
    for row in sorted(rows, key=lambda r: r["episode_index"]):
        ep = int(row["episode_index"])
        idx = np.flatnonzero(ep_col == ep)
        idx = idx[np.argsort(np.asarray(data["frame_index"])[idx])]
        T = len(idx)
        if T < 2:
            raise DatasetError(f"{root}: episode {ep} has {T} frames; a demo needs at least 2")
        state = np.asarray([data[state_key][i] for i in idx], np.float32).reshape(T, -1)
        action = np.asarray([data[action_key][i] for i in idx], np.float32).reshape(T, -1)
        stage, names = _stages(row, T, names)
        success = bool(np.any([data[success_key][i] for i in idx])) if success_key else True
        reward = np.asarray([data["next.reward"][i] for i in idx[:-1]], np.float32) if "next.reward" in data else None
        step_infos = {"subtask": stage, "stage": stage.copy(), "is_success": np.zeros(T, bool)}
        step_infos["is_success"][-1] = success
        if frames:
            file = root / info["video_path"].format(
                video_key=camera,
                chunk_index=int(row[f"videos/{camera}/chunk_index"]),
                file_index=int(row[f"videos/{camera}/file_index"]),
            )
            video = _video_frames(file, cache)
            first = int(round(float(row[f"videos/{camera}/from_timestamp"]) * fps))
            clip = video[first : first + T]
            if len(clip) != T:
                raise DatasetError(
                    f"{file}: episode {ep} needs frames {first}..{first + T - 1}, the file has {len(video)}"
                )
            if image_size:
                clip = np.stack([cv2.resize(f, (image_size, image_size), interpolation=cv2.INTER_AREA) for f in clip])
            step_infos["frame"] = clip
        buffers.append(
            EpisodeBuffer(
                id=len(buffers),
                observations=state,
                actions=action[:-1],
                rewards=list(reward if reward is not None else np.zeros(T - 1, np.float32)),
                terminations=[False] * (T - 1),
                truncations=[False] * (T - 2) + [True],
                infos=step_infos,
            )
        )
        task_list = list(row.get("tasks") or [])
        if not task_list and "task_index" in data:
            task_list = [tasks.get(int(data["task_index"][idx[0]]), "")]
        meta.append(
            {
                "instruction": task_list[0] if task_list else "",
                "subtasks": None,  # filled below, once every episode's names are known
                "quality": "lerobot",
                "success": success,
                "off_task_from": None,
            }
        )
    for m in meta:
        m["subtasks"] = names or [ONE_STAGE]
    obs_dim, act_dim = buffers[0].observations.shape[1], buffers[0].actions.shape[1]
    return write_dataset(
        target,
        zip(buffers, meta),
        {"task": name, "env": None},  # recorded by a robot, not in an env robrew can make
        observation_space=spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32),
        action_space=spaces.Box(-np.inf, np.inf, (act_dim,), np.float32),
        algorithm="LeRobot import",
        description=f"{name}: imported from the LeRobot dataset at {root}",
    )
