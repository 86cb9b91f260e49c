"""Task files: all shipped ones load and make their env; bad files fail with one clear message."""

import dataclasses
import textwrap

import numpy as np
import pytest
import yaml

import robrew
from robrew.taskspec import TaskSpecError, load_task, task_dir

GOOD = {
    "name": "t",
    "env_id": "robrew/CartPole-v0",
    "goal_prompts": ["pole upright"],
    "baseline_prompts": ["pole"],
    "horizon": 10,
}


def write(tmp_path, data, name="t.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("name", robrew.list_tasks())
def test_every_shipped_task_loads_and_runs(name):
    spec = load_task(name)
    env = robrew.make_env(spec, render_mode="rgb_array")
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert env.render().shape == (*spec.image_size, 3)
    _, _, _, _, info = env.step(env.action_space.sample())
    assert "is_success" in info
    if "tabletop" in spec.tags:
        # The spec's subtasks are the env's own, in order.
        own = env.unwrapped.subtasks if "goal-conditioned" in spec.tags else env.unwrapped.task.subtasks
        assert list(spec.subtasks) == list(own)


def test_humanoid_prompts_follow_vlm_rm():
    assert load_task("humanoid_kneeling").goal_prompts == ("a humanoid robot kneeling",)
    assert load_task("humanoid_lotus").baseline_prompts == ("a humanoid robot",)
    assert len([n for n in robrew.list_tasks() if n.startswith("humanoid_")]) == 8


def test_spec_is_frozen():
    spec = load_task("cartpole")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.horizon = 3


@pytest.mark.parametrize(
    "change, field",
    [
        ({"colour": "red"}, "colour"),  # unknown key
        ({"horizon": "100x"}, "horizon"),  # wrong type
        ({"horizon": -5}, "horizon"),
        ({"demos": -1}, "demos"),
        ({"goal_prompts": []}, "goal_prompts"),  # missing prompt
        ({"goal_prompts": None}, "goal_prompts"),
        ({"env_id": "robrew/Nope-v0"}, "env_id"),  # unknown env id
        ({"image_size": [224]}, "image_size"),
        ({"success": {"kind": "vibes"}}, "success.kind"),
        ({"camera": {"distanse": 2}}, "camera"),
        ({"success": {"kind": "info_key"}}, "success.key"),  # info_key without the key
        ({"frame_transform": {"rotate": 45}}, "frame_transform"),
        ({"frame_transform": {"flip": "sideways"}}, "frame_transform"),
        ({"frame_transform": {"mirror": True}}, "frame_transform.mirror"),
    ],
)
def test_bad_file_names_file_and_field(tmp_path, change, field):
    path = write(tmp_path, {**GOOD, **change})
    with pytest.raises(TaskSpecError) as err:
        load_task(path)
    msg = str(err.value)
    assert str(path) in msg and f"'{field}'" in msg and "\n" not in msg


def test_missing_required_field(tmp_path):
    data = dict(GOOD)
    del data["baseline_prompts"]
    with pytest.raises(TaskSpecError, match="'baseline_prompts': missing"):
        load_task(write(tmp_path, data))


def test_unknown_task_name_and_bad_yaml(tmp_path):
    with pytest.raises(TaskSpecError, match="unknown task 'nope'"):
        load_task("nope")
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent("name: [unclosed\n"))
    with pytest.raises(TaskSpecError, match="not valid YAML"):
        load_task(path)


def test_tasks_ship_as_package_data():
    assert (task_dir() / "cartpole.yaml").is_file()
    assert "site-packages" in str(task_dir()) or (task_dir() / "__init__.py").is_file()


def test_custom_camera_mapping(tmp_path):
    path = write(tmp_path, {**GOOD, "camera": {"distance": 2.0, "elevation": 0.0, "lookat": [0, 0, 0.3]}})
    env = robrew.make_env(load_task(path), render_mode="rgb_array", width=32, height=32)
    env.reset(seed=0)
    assert env.render().shape == (32, 32, 3) and np.ptp(env.render()) > 0


def test_task_patterns_expand_over_the_shipped_tasks(tmp_path):
    from robrew.taskspec import expand_tasks, list_tasks

    humanoid = expand_tasks(["humanoid_*"])
    assert len(humanoid) == 8 and humanoid == sorted(t for t in list_tasks() if t.startswith("humanoid_"))
    own = str(tmp_path / "my_*.yaml")  # a path is never a pattern; plain names pass as given
    assert expand_tasks(["tabletop_reach", "humanoid_k*", own, "humanoid_kneeling"]) == [
        "tabletop_reach",
        "humanoid_kneeling",
        own,
        "humanoid_kneeling",
    ]
