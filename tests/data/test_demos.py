"""Demonstration datasets: collection, annotations, and clear errors on damage."""

import json

import numpy as np
import pytest

from robrew.data.collect import collect_demos
from robrew.data.demos import ANNOTATIONS, DatasetError, load_demos
from robrew.data.labels import spans_from_steps


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return collect_demos("tabletop_pick_place", tmp_path_factory.mktemp("ds"), episodes=6, seed=0, image_size=32)


def test_collect_and_load(dataset):
    demos = load_demos(dataset)
    assert len(demos) == 6
    assert {d.quality for d in demos} == {"clean", "sloppy", "failing"}
    for d in demos:
        T = len(d.actions)
        assert d.observations.shape == (T + 1, 26) and d.frames.shape == (T + 1, 32, 32, 3)
        assert d.subtask[0] == 0 and d.subtask.max() < len(d.subtasks)
        spans = spans_from_steps(d.subtask)
        assert spans[0].start == 0 and spans[-1].end == T + 1
        assert d.instruction and len(d.subtasks) == 5
        if d.quality == "failing":
            assert not d.success and d.done_at is None
    clean = [d for d in demos if d.quality == "clean"]
    assert all(d.success and d.done_at is not None for d in clean)
    # Annotations follow the expert: subtasks appear in order in a clean demo.
    assert [s.stage for s in spans_from_steps(clean[0].subtask)] == [0, 1, 2, 3, 4]


def test_missing_annotations(dataset, tmp_path):
    import shutil

    copy = tmp_path / "robrew" / "tabletop_pick_place" / "expert-mixed-v0"
    shutil.copytree(dataset, copy)
    (copy / ANNOTATIONS).unlink()
    with pytest.raises(DatasetError, match="no robrew subtask annotations"):
        load_demos(copy)
    (copy / ANNOTATIONS).write_text("{broken")
    with pytest.raises(DatasetError, match="corrupt annotations"):
        load_demos(copy)


def test_corrupt_data(dataset, tmp_path):
    import shutil

    copy = tmp_path / "robrew" / "tabletop_pick_place" / "expert-mixed-v0"
    shutil.copytree(dataset, copy)
    for f in (copy / "data").iterdir():
        f.write_bytes(f.read_bytes()[:100])
    with pytest.raises(DatasetError, match="cannot read the Minari data"):
        load_demos(copy)
    with pytest.raises(DatasetError, match="not a Minari dataset"):
        load_demos(tmp_path / "nowhere")


def test_annotation_count_mismatch(dataset, tmp_path):
    import shutil

    copy = tmp_path / "robrew" / "tabletop_pick_place" / "expert-mixed-v0"
    shutil.copytree(dataset, copy)
    meta = json.loads((copy / ANNOTATIONS).read_text())
    meta["episodes"] = meta["episodes"][:2]
    (copy / ANNOTATIONS).write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match="6 episodes but 2 annotation records"):
        load_demos(copy)


def test_done_labels(dataset):
    from robrew.data.labels import episode_labels

    d = next(d for d in load_demos(dataset) if d.done_at is not None)
    lab = episode_labels(d.subtask, np.full(5, 0.2), d.done_at)
    assert np.all(lab.progress[d.done_at :] == 1.0) and lab.progress[d.done_at - 1] < 1.0


def test_collect_to_a_relative_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # `robrew-collect --out data` as in the README
    path = collect_demos("tabletop_reach", "data", episodes=2, seed=0, image_size=16)
    assert path == tmp_path / "data" / "robrew" / "tabletop_reach" / "expert-mixed-v0"
    assert len(load_demos("data/robrew/tabletop_reach/expert-mixed-v0")) == 2


def test_exploration_episodes_are_labelled_no_progress(tmp_path):
    from robrew.data.collect import mix_with_exploration
    from robrew.data.labels import episode_labels

    mix = mix_with_exploration(0.5)
    assert sum(f for f, _ in mix.values()) == pytest.approx(1.0) and mix["explore"][0] == 0.5
    with pytest.raises(ValueError, match="exploration fraction"):
        mix_with_exploration(1.0)
    demos = load_demos(collect_demos("tabletop_push", tmp_path, episodes=4, mix=mix, seed=0, image_size=16))
    explore = [d for d in demos if d.quality == "explore"]
    assert len(explore) == 2
    for d in explore:
        assert d.off_task_from == 0 and not d.success
        assert np.ptp(d.observations[:, :3], axis=0).max() > 0.1  # the gripper went places
        assert np.all(episode_labels(d.subtask, np.full(3, 1 / 3), d.done_at, d.off_task_from).progress == 0.0)


def test_collect_cli_rejects_a_bad_exploration_fraction(capsys):
    from robrew.apps.collect import main

    with pytest.raises(SystemExit) as exc:
        main(["--task", "tabletop_push", "--episodes", "2", "--explore", "1.5"])
    assert exc.value.code == 2
    assert "--explore" in capsys.readouterr().err


def test_collecting_without_frames_records_the_same_episodes(dataset, tmp_path):
    """Nothing renders without frames, and everything else is the same, bit for bit."""
    plain = load_demos(collect_demos("tabletop_pick_place", tmp_path, episodes=6, seed=0, frames=False))
    for a, b in zip(load_demos(dataset), plain, strict=True):
        assert b.frames is None and a.frames is not None
        for field in ("observations", "actions", "rewards", "subtask", "stage"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
        assert (a.success, a.done_at, a.off_task_from, a.instruction, a.quality) == (
            b.success,
            b.done_at,
            b.off_task_from,
            b.instruction,
            b.quality,
        )
