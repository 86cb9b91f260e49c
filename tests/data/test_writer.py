"""The one dataset writer: scripted collection gives the same dataset whatever the number of worker
processes, every dataset path records its env (or says it has none), and loading a dataset
imports no env."""

import json
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

from robrew.agents.sac import SacConfig
from robrew.data.collect import collect_demos
from robrew.data.demos import ANNOTATIONS, DatasetError, dataset_env, load_demos, recorded_env
from robrew.data.record import record_demos
from robrew.env_factory import make_env
from robrew.taskspec import load_task


def _arrays(path):
    demos = load_demos(path)
    return [
        {k: getattr(d, k) for k in ("observations", "actions", "rewards", "frames", "subtask", "stage", "done_at")}
        for d in demos
    ]


def test_one_and_two_workers_write_the_same_dataset(tmp_path):
    """Arrays and annotations are equal, reset options reach the workers' episodes (a picklable
    callable: a list's item getter), and the episodes really differ from one another. A job that
    cannot be pickled is one clear error."""
    options = [{"block": ("red", "blue")[i % 2], "pad": "green", "template": 0} for i in range(7)]
    kw = dict(episodes=7, seed=5, image_size=16, reset_options=options.__getitem__)
    one = collect_demos("tabletop_pick_place", tmp_path / "one", workers=1, **kw)
    two = collect_demos("tabletop_pick_place", tmp_path / "two", workers=2, **kw)
    a, b = _arrays(one), _arrays(two)
    assert len(a) == len(b) == 7
    for x, y in zip(a, b):
        for k in x:
            if isinstance(x[k], np.ndarray):
                assert x[k].dtype == y[k].dtype and np.array_equal(x[k], y[k]), k
            else:
                assert x[k] == y[k], k
    assert json.loads((one / ANNOTATIONS).read_text()) == json.loads((two / ANNOTATIONS).read_text())
    assert not np.array_equal(a[0]["observations"][0], a[1]["observations"][0])
    colours = [e["colors"]["block"] for e in json.loads((one / ANNOTATIONS).read_text())["episodes"]]
    assert colours == [("red", "blue")[i % 2] for i in range(7)]
    with pytest.raises(DatasetError, match="cannot be pickled"):
        collect_demos("tabletop_reach", tmp_path / "x", 2, workers=2, reset_options=lambda i: None, frames=False)
    assert not (tmp_path / "x" / "robrew").exists()


def test_every_dataset_path_records_its_env(tmp_path, capsys):
    collected = collect_demos("tabletop_reach_sparse", tmp_path, episodes=2, image_size=8, frames=False)
    spec = load_task("tabletop_reach_sparse")
    assert dataset_env(collected) == recorded_env(spec) == {"id": spec.env_id, "kwargs": {"reward": "sparse"}}

    def env_fn(render):
        return make_env(spec, render_mode="rgb_array" if render else None)

    zero = np.zeros(4, np.float32)
    told = record_demos(env_fn, lambda obs: zero, tmp_path, "told", 2, max_steps=5, recorded_env=recorded_env(spec))
    assert dataset_env(told) == recorded_env(spec)
    # without being told, from the env's spec: id and make arguments, render settings left out
    plain = record_demos(
        lambda render: gym.make("Pendulum-v1", render_mode="rgb_array" if render else None, g=9.0),
        lambda obs: np.zeros(1, np.float32),
        tmp_path,
        "pendulum",
        2,
        max_steps=5,
    )
    assert dataset_env(plain) == {"id": "Pendulum-v1", "kwargs": {"g": 9.0}}

    class NoSpec(gym.Wrapper):
        @property
        def spec(self):
            return None

    unknown = record_demos(
        lambda render: NoSpec(gym.make("Pendulum-v1")), lambda obs: np.zeros(1, np.float32), tmp_path, "nospec", 1
    )
    annotations = json.loads((unknown / ANNOTATIONS).read_text())
    assert "env" in annotations and annotations["env"] is None and dataset_env(unknown) is None
    assert len(load_demos(unknown)[0].actions) == 200  # Pendulum's time limit, recorded through the wrapper


def test_a_dataset_without_an_env_gets_one_warning_line_in_demo_replay(tmp_path, capsys):
    from robrew.rewards.factory import RewardConfig
    from robrew.runs import TaskConfig, TrainConfig
    from robrew.training.train import check_demo_rewards

    unknown = record_demos(
        lambda render: make_env("tabletop_reach"), lambda obs: np.zeros(4, np.float32), tmp_path, "x", 1, max_steps=3
    )
    ann = json.loads((unknown / ANNOTATIONS).read_text())
    (unknown / ANNOTATIONS).write_text(json.dumps({**ann, "env": None}))  # as an import writes it
    cfg = TrainConfig(task=TaskConfig("tabletop_reach"), reward=RewardConfig(), algo=SacConfig(demos=str(unknown)))
    check_demo_rewards(cfg, load_task("tabletop_reach"), None)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not record the env its rewards came from" in err[0]
    (unknown / ANNOTATIONS).write_text(json.dumps({**ann, "env": recorded_env(load_task("tabletop_push"))}))
    with pytest.raises(ValueError, match="recorded in robrew/TabletopPush"):
        check_demo_rewards(cfg, load_task("tabletop_reach"), None)


def test_loading_a_dataset_imports_no_env(tmp_path):
    path = collect_demos("tabletop_reach", tmp_path, episodes=2, image_size=8, frames=False)
    code = (
        "import sys; from robrew.data.demos import load_demos; "
        f"assert len(load_demos({str(path)!r})) == 2; "
        "print(sorted(m for m in sys.modules if m.startswith('robrew.envs')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
