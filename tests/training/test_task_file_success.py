"""What a task file says beyond the env: success from an info key (Meta-World's ``success``), a
default instruction and a frame transform, honoured by make_env, training's evaluation callback,
the SB3 logging callback and robrew-eval."""

import json

import numpy as np
import pytest
import yaml

import robrew.testing  # noqa: F401  (registers robrew-testing/SuccessKey-v0)
from robrew.agents.ppo import PpoConfig, PpoParams
from robrew.env_factory import make_env
from robrew.eval.evaluate import evaluate_run
from robrew.rewards.factory import RewardConfig
from robrew.runs import TaskConfig, TrainConfig
from robrew.taskspec import load_task
from robrew.training.train import train


def task_file(tmp_path, **change):
    data = {
        "name": "success_key",
        "env_id": "robrew.testing:robrew-testing/SuccessKey-v0",
        "goal_prompts": ["done"],
        "baseline_prompts": ["scene"],
        "horizon": 5,
        "success": {"kind": "info_key", "key": "success"},
        "instruction": "touch the thing",
        "frame_transform": {"rotate": 180},
        **change,
    }
    path = tmp_path / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_make_env_applies_the_task_file(tmp_path):
    env = make_env(load_task(task_file(tmp_path)), render_mode="rgb_array")
    _, info = env.reset(seed=0)
    assert info["is_success"] is False and info["instruction"] == "touch the thing"
    flags = [env.step(env.action_space.sample())[4]["is_success"] for _ in range(3)]
    assert flags == [False, True, True]  # info["success"] becomes info["is_success"]
    frame = env.render()
    assert frame.shape == (6, 8, 3) and frame[-1, -1, 0] == 255 and frame[0, 0, 0] == 0  # turned by 180 degrees
    flipped = make_env(load_task(task_file(tmp_path, name="v", frame_transform={"flip": "vertical"})))
    flipped.reset(seed=0)
    assert flipped.render()[-1, 0, 0] == 255
    # latch: once successful, successful for the rest of the episode (Meta-World's protocol).
    latched = make_env(
        load_task(task_file(tmp_path, name="l", success={"kind": "info_key", "key": "success", "latch": True}))
    )
    latched.reset(seed=0)
    latched.unwrapped.succeed_at = 2
    flags = []
    for t in range(4):
        if t == 2:
            latched.unwrapped.succeed_at = 99  # info["success"] falls back to 0 from here on
        flags.append(latched.step(latched.action_space.sample())[4]["is_success"])
    assert flags == [False, True, True, True]
    _, info = latched.reset(seed=1)
    assert info["is_success"] is False  # a new episode starts unsuccessful
    quarter = make_env(load_task(task_file(tmp_path, name="q", frame_transform={"rotate": 90})))
    quarter.reset(seed=0)
    assert quarter.render().shape == (8, 6, 3) and quarter.render()[-1, 0, 0] == 255  # counter-clockwise


@pytest.mark.parametrize("kind, expected", [("info_key", 1.0), ("info_is_success", 0.0)])
def test_training_and_eval_read_success_from_the_task_file(tmp_path, kind, expected):
    success = {"kind": kind, "key": "success"} if kind == "info_key" else {"kind": kind}
    path = task_file(tmp_path, success=success)
    cfg = TrainConfig(
        task=TaskConfig("success_key", path=str(path)),
        reward=RewardConfig(),
        algo=PpoConfig(params=PpoParams(n_steps=16, batch_size=16, n_epochs=1)),
        n_envs=1,
        total_timesteps=32,
        checkpoint_every=16,
        eval_every=16,
        eval_episodes=2,
        progress_bar=False,
    )
    metrics = train(cfg, tmp_path / "run")
    assert metrics["final_eval"]["success_rate"]["mean"] == expected  # the training-time evaluation
    curve = (tmp_path / "run" / "curve.csv").read_text().splitlines()[1:]
    assert {float(line.split(",")[1]) for line in curve} == {expected}
    assert evaluate_run(tmp_path / "run", episodes=3, videos=0)["success_rate"]["mean"] == expected  # robrew-eval
    logged = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert logged["final_eval"]["success_rate"]["mean"] == expected
    env = make_env(load_task(path))
    env.reset(seed=0)
    assert np.isfinite(env.step(env.action_space.sample())[1])
