"""Importing a LeRobot v3 dataset: a tiny one written here in the documented layout (parquet
frames/actions/state, one mp4 holding several episodes, tasks, SARM-style sparse subtask
annotations), imported into robrew demos and checked value by value."""

import json

import imageio_ffmpeg
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from robrew.data.demos import DatasetError, load_demos
from robrew.data.lerobot import import_lerobot
from robrew.training.progress import ProgressTrainConfig, fit_progress_model

LENGTHS = [10, 12, 8]
CAMERA = "observation.images.top"


def shade(episode: int, frame: int) -> int:
    """The grey level of a frame: says which episode and frame it is (mp4 keeps flat grey nearly exact)."""
    return 20 + 60 * episode + 3 * frame


def write_dataset(root, annotations: bool = True, success: bool = False, version: str = "v3.0"):
    fps = 10
    info = {
        "codebase_version": version,
        "fps": fps,
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
        "features": {
            "observation.state": {"dtype": "float32", "shape": [4]},
            "action": {"dtype": "float32", "shape": [2]},
            CAMERA: {"dtype": "video", "shape": [32, 32, 3]},
        },
    }
    (root / "meta" / "episodes" / "chunk-000").mkdir(parents=True)
    (root / "data" / "chunk-000").mkdir(parents=True)
    (root / "videos" / CAMERA / "chunk-000").mkdir(parents=True)
    (root / "meta" / "info.json").write_text(json.dumps(info))
    tasks = ["pick up the cube", "push the cube"]
    pq.write_table(pa.table({"task_index": [0, 1], "task": tasks}), root / "meta" / "tasks.parquet")
    cols = {k: [] for k in ("observation.state", "action", "episode_index", "frame_index", "task_index", "next.reward")}
    cols["next.success"] = []
    episodes = {k: [] for k in ("episode_index", "length", "tasks", "dataset_from_index", "dataset_to_index")}
    video = {"chunk": [], "file": [], "from": [], "to": []}
    sarm = {"names": [], "starts": [], "ends": []}
    frames, start = [], 0
    for ep, T in enumerate(LENGTHS):
        for t in range(T):
            cols["observation.state"].append([ep, t, 0.5 * t, -1.0])
            cols["action"].append([0.1 * t, -0.1 * ep])
            cols["episode_index"].append(ep)
            cols["frame_index"].append(t)
            cols["task_index"].append(ep % 2)
            cols["next.reward"].append(float(t))
            cols["next.success"].append(success and ep != 1 and t == T - 1)
            frames.append(np.full((32, 32, 3), shade(ep, t), np.uint8))
        episodes["episode_index"].append(ep)
        episodes["length"].append(T)
        episodes["tasks"].append([tasks[ep % 2]])
        episodes["dataset_from_index"].append(start)
        episodes["dataset_to_index"].append(start + T)
        video["chunk"].append(0)
        video["file"].append(0)
        video["from"].append(start / fps)
        video["to"].append((start + T) / fps)
        sarm["names"].append(["reach", "grasp"])
        sarm["starts"].append([0, 4])
        sarm["ends"].append([4, T])  # one past the last frame (as LeRobot's SARM tests write)
        start += T
    # Shuffle the frame rows: the importer must order by episode and frame index itself.
    order = np.random.default_rng(0).permutation(start)
    pq.write_table(
        pa.table({k: [v[i] for i in order] for k, v in cols.items()}), root / "data" / "chunk-000" / "file-000.parquet"
    )
    ep_table = {
        **episodes,
        f"videos/{CAMERA}/chunk_index": video["chunk"],
        f"videos/{CAMERA}/file_index": video["file"],
        f"videos/{CAMERA}/from_timestamp": video["from"],
        f"videos/{CAMERA}/to_timestamp": video["to"],
    }
    if annotations:
        ep_table["sparse_subtask_names"] = sarm["names"]
        ep_table["sparse_subtask_start_frames"] = sarm["starts"]
        ep_table["sparse_subtask_end_frames"] = sarm["ends"]
    pq.write_table(pa.table(ep_table), root / "meta" / "episodes" / "chunk-000" / "file-000.parquet")
    writer = imageio_ffmpeg.write_frames(
        str(root / "videos" / CAMERA / "chunk-000" / "file-000.mp4"), (32, 32), fps=fps, quality=10, macro_block_size=1
    )
    writer.send(None)
    for f in frames:
        writer.send(np.ascontiguousarray(f))
    writer.close()
    return root


def test_import_round_trip_with_frames_and_sarm_annotations(tmp_path):
    src = write_dataset(tmp_path / "pick_cube")
    demos = load_demos(import_lerobot(src, tmp_path / "out", image_size=16))
    assert [len(d.actions) for d in demos] == [T - 1 for T in LENGTHS]  # T frames -> T - 1 transitions
    for ep, (d, T) in enumerate(zip(demos, LENGTHS)):
        np.testing.assert_array_equal(d.observations, [[ep, t, 0.5 * t, -1.0] for t in range(T)])
        np.testing.assert_allclose(d.actions, [[0.1 * t, -0.1 * ep] for t in range(T - 1)], rtol=0, atol=1e-6)
        np.testing.assert_array_equal(d.rewards, np.arange(T - 1, dtype=np.float32))
        assert d.frames.shape == (T, 16, 16, 3)
        # Each frame is the one of this episode and time step, cut out of the shared mp4.
        np.testing.assert_allclose(d.frames.mean(axis=(1, 2, 3)), [shade(ep, t) for t in range(T)], atol=3)
        assert d.subtasks == ["reach", "grasp"] and d.subtask.tolist() == [0] * 4 + [1] * (T - 4)
        assert d.instruction == ["pick up the cube", "push the cube"][ep % 2]
        assert d.success is True and d.quality == "lerobot"  # no success column: demonstrations


def test_import_without_annotations_or_frames_and_with_a_success_column(tmp_path):
    src = write_dataset(tmp_path / "plain", annotations=False, success=True)
    path = import_lerobot(src, tmp_path / "out", frames=False, success_key="next.success")
    demos = load_demos(path)
    from robrew.data.demos import ANNOTATIONS, dataset_env

    # recorded by a robot, not in an env: the annotations say so (null), not nothing
    assert json.loads((path / ANNOTATIONS).read_text())["env"] is None and dataset_env(path) is None
    assert [d.success for d in demos] == [True, False, True]
    assert all(d.frames is None and d.subtasks == ["complete the task"] and set(d.subtask) == {0} for d in demos)
    # A progress model on state trains on the imported demos (the failed one has no mark: inferred).
    _, report = fit_progress_model(demos * 3, ProgressTrainConfig(steps=20, hidden=16, val_fraction=0.34))
    assert report["train_failed_episodes"] == len(report["inferred_departures"])


def test_bad_sources_are_one_line_and_write_nothing(tmp_path):
    old = write_dataset(tmp_path / "old", version="v2.1")
    with pytest.raises(DatasetError, match="robrew reads the v3 layout"):
        import_lerobot(old, tmp_path / "out")
    src = write_dataset(tmp_path / "ok")
    with pytest.raises(DatasetError, match="no video feature 'observation.images.wrist'"):
        import_lerobot(src, tmp_path / "out", camera="observation.images.wrist")
    with pytest.raises(DatasetError, match="no success column 'success'"):
        import_lerobot(src, tmp_path / "out", success_key="success")
    with pytest.raises(DatasetError, match="not a LeRobot dataset"):
        import_lerobot(tmp_path / "nothing", tmp_path / "out")
    assert not (tmp_path / "out" / "robrew").exists()


def test_robrew_collect_imports_a_lerobot_dataset(tmp_path, capsys):
    from robrew.apps.collect import main

    src = write_dataset(tmp_path / "cube")
    main(["--lerobot", str(src), "--frames", "--image-size", "8", "--out", str(tmp_path / "out")])
    demos = load_demos(tmp_path / "out" / "robrew" / "cube" / "lerobot-v0")
    assert len(demos) == 3 and demos[0].frames.shape == (10, 8, 8, 3)
    assert "wrote 3 episodes" in capsys.readouterr().out
