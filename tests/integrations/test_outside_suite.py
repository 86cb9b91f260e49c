"""An outside goal-conditioned suite, end to end through the console scripts, as a user would go:
a Dict-observation env defined here (not one of robrew's), its task file, robrew-collect --policy
--mix, robrew-rabc task=<file>, robrew-train task=<file> algo=sac algo.her=true, robrew-eval; every
run filed under the file's own name."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BIN = Path(sys.executable).parent

SUITE = '''
"""A point that moves towards a goal in the plane: Dict observations, info["is_success"]."""
import gymnasium as gym
import numpy as np
from gymnasium import spaces


class PointGoal(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, render_mode=None):
        self.render_mode = render_mode
        box = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.observation_space = spaces.Dict({"observation": box, "achieved_goal": box, "desired_goal": box})
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)

    def _obs(self):
        return {"observation": self.p.copy(), "achieved_goal": self.p.copy(), "desired_goal": self.g.copy()}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.p = self.np_random.uniform(-0.8, 0.8, 2).astype(np.float32)
        self.g = self.np_random.uniform(-0.8, 0.8, 2).astype(np.float32)
        return self._obs(), {}

    def compute_reward(self, achieved_goal, desired_goal, info):
        return -(np.linalg.norm(np.asarray(achieved_goal) - np.asarray(desired_goal), axis=-1) > 0.1).astype(np.float32)

    def step(self, action):
        self.p = np.clip(self.p + 0.2 * np.clip(action, -1, 1), -1, 1).astype(np.float32)
        obs = self._obs()
        hit = bool(np.linalg.norm(self.p - self.g) <= 0.1)
        return obs, float(self.compute_reward(self.p, self.g, {})), False, False, {"is_success": hit}


def expert(obs):
    d = obs["desired_goal"] - obs["achieved_goal"]
    return np.clip(5.0 * d, -1, 1).astype(np.float32)


gym.register("pointsuite/PointGoal-v0", entry_point=PointGoal, max_episode_steps=20)
'''

TASK = """name: point_goal
description: move the point onto its goal (an outside suite)
env_id: pointsuite:pointsuite/PointGoal-v0
env_kwargs: {}
goal_prompts: ["a point on its goal"]
baseline_prompts: ["a point"]
horizon: 20
success: {kind: info_is_success}
tags: [goal]
"""


def run(args, cwd):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(cwd)}
    out = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, f"{' '.join(args)}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.mark.heavy
def test_an_outside_dict_suite_from_task_file_to_evaluation(tmp_path, run_clis):
    (tmp_path / "pointsuite.py").write_text(SUITE)
    task = tmp_path / "point_goal.yaml"
    task.write_text(TASK)
    data = tmp_path / "data" / "robrew" / "point_goal" / "recorded-v0"
    rabc = tmp_path / "rabc"
    steps = [  # collect, the main job, SAC + HER: one interpreter, as they pass on nothing but files
        ["robrew-collect", "--task", task, "--policy", "pointsuite:expert", "--mix", "clean=8,noisy=4,failing=4"],
        ["robrew-rabc", f"task={task}", f"data_dir={data}", f"out_dir={rabc}", "progress.steps=40", "bc.steps=40"]
        + ["eval_episodes=2", "videos=0", "torch_threads=1"],
        ["robrew-train", f"task={task}", "algo=sac", "algo.her=true", "total_timesteps=160", "n_envs=1"]
        + ["algo.params.learning_starts=40", "algo.params.buffer_size=1000", "checkpoint_every=80", "eval_every=80"]
        + ["eval_episodes=2", "progress_bar=false", "torch_threads=1"],
    ]
    outs = run_clis([(argv, tmp_path) for argv in steps], env={"PYTHONPATH": str(tmp_path)})
    for argv, out in zip(steps, outs):
        assert out.returncode == 0, f"{argv[0]}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    assert "wrote 16 episodes" in outs[0].stdout and data.is_dir()
    result = json.loads((rabc / "results.json").read_text())
    assert result["dataset"]["episodes"] == 16 and set(result["policies"]) == {"none", "rabc"}

    (run_dir,) = (tmp_path / "runs" / "point_goal").iterdir()  # filed under the file's own name
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["task"]["name"] == "point_goal" and saved["algo"]["policy"] == "MultiInputPolicy"
    resolved = json.loads((run_dir / "resolved.json").read_text())  # what ran, defaults filled in
    assert resolved["learner"] == "SAC" and resolved["policy"] == "MultiInputPolicy"
    assert resolved["observation_keys"] == ["achieved_goal", "desired_goal", "observation"]
    assert resolved["algo_params"]["learning_starts"] == 40 and "gamma" in resolved["algo_params"]

    run(["robrew-eval", str(run_dir), "--episodes", "3", "--videos", "0"], tmp_path)
    evaluated = json.loads((run_dir / "eval" / "eval.json").read_text())
    assert evaluated["task"] == "point_goal" and evaluated["success_rate"]["n"] == 3
