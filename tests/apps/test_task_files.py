"""Task files are named the same way in every app (``task=<file>.yaml``, ``task.path=<file>``), and
a run from a file is filed under the file's own name, through the real console scripts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from robrew.apps.cli_args import task_file_overrides

BIN = Path(sys.executable).parent
TINY = ["progress_bar=false", "total_timesteps=64", "checkpoint_every=64", "eval_every=64", "eval_episodes=1"]
PPO = ["algo=ppo", "algo.params.n_steps=64", "algo.params.batch_size=64", "n_envs=1"]

MY_REACH = """name: my_reach
description: reach, from a file of the user's
env_id: robrew/TabletopReach-v0
env_kwargs: {}
goal_prompts: ["a robot gripper touching the {block} block"]
baseline_prompts: ["a robot gripper"]
horizon: 50
success: {kind: info_is_success}
tags: [tabletop, manipulation, language]
"""


def run(args, cwd):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture
def task_file(tmp_path):
    path = tmp_path / "files" / "my_reach.yaml"
    path.parent.mkdir()
    path.write_text(MY_REACH)
    return path


@pytest.mark.parametrize("how", ["task=", "task.path="])
def test_robrew_train_files_a_task_file_run_under_its_own_name(tmp_path, task_file, how):
    out = run(["robrew-train", f"{how}{task_file}", *TINY, *PPO], tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    (run_dir,) = (tmp_path / "runs" / "my_reach").iterdir()
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["task"] == {"name": "my_reach", "path": str(task_file.resolve())}
    assert not (tmp_path / "runs" / "tabletop_reach").exists()


@pytest.mark.parametrize("app", ["robrew-train", "robrew-rabc"])
def test_a_task_file_that_does_not_load_is_one_line(tmp_path, app, run_clis):
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: broken\n")
    args = (f"task={bad}", f"task.path={bad}", f"task.path={tmp_path / 'missing.yaml'}")
    cwds = [tmp_path / str(i) for i in range(len(args))]
    for cwd in cwds:
        cwd.mkdir()
    for arg, cwd, out in zip(args, cwds, run_clis([([app, arg], cwd) for arg, cwd in zip(args, cwds)])):
        assert out.returncode == 2 and out.stderr.startswith(f"{app}: error:"), (arg, out.stderr[-2000:])
        assert len(out.stderr.strip().splitlines()) == 1, (arg, out.stderr)
        assert not (cwd / "runs").exists() and not (cwd / "outputs").exists(), arg


def test_overrides_for_a_config_group_and_for_a_string(task_file):
    path = str(task_file.resolve())
    assert task_file_overrides([f"task={task_file}", "seed=1"], "x", group=True) == [
        f"task.path={path}",
        "task.name=my_reach",
        "seed=1",
    ]
    assert task_file_overrides([f"task.path={task_file}", "task.name=mine"], "x", group=True) == [
        f"task.path={path}",
        "task.name=mine",
    ]
    assert task_file_overrides([f"task.path={task_file}"], "x", group=False) == [f"task={path}"]
    assert task_file_overrides(["task=tabletop_push", "task=a.yaml,b.yaml"], "x", group=True) == [
        "task=tabletop_push",
        "task=a.yaml,b.yaml",
    ]


RENAMED = [
    ("robrew-rabc", "progress_steps=300", "progress.steps=300"),
    ("robrew-train", "algo.residual_scale=0.2", "algo.residual.scale=0.2"),
]


@pytest.fixture(scope="module")
def renamed_key_runs(tmp_path_factory, run_clis):
    """Each app of :data:`RENAMED` given its old key, in a directory of its own: (the directory,
    what the command did)."""
    cases = [([app, old], tmp_path_factory.mktemp("renamed")) for app, old, _ in RENAMED]
    return [(cwd, out) for (_, cwd), out in zip(cases, run_clis(cases))]


@pytest.mark.parametrize("case", range(len(RENAMED)), ids=[old for _, old, _ in RENAMED])
def test_a_renamed_key_is_one_line_naming_the_new_one(renamed_key_runs, case):
    app, old, new = RENAMED[case]
    cwd, out = renamed_key_runs[case]
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        f"{app}: error: {old.split('=')[0]} is now {new.split('=')[0]}: write {new}"
    ], out.stderr[-2000:]
    assert not (cwd / "runs").exists()


def test_pretraining_without_demos_is_one_line_and_writes_nothing(tmp_path):
    out = run(["robrew-train", "task=tabletop_reach", "algo=sac", "algo.pretrain=bc", *TINY], tmp_path)
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        "robrew-train: error: algo.pretrain=bc clones demonstrations: set algo.demos=<dataset dir>"
    ]
    assert not (tmp_path / "runs").exists()
