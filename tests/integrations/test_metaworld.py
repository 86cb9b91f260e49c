"""Meta-World through robrew: the example's recorder, task file (success from info["success"],
instruction, frame transform), progress model, BC and RA-BC, at a tiny budget. Meta-World pins
mujoco 3.3.0, so `make test` runs this file in a venv of its own (`.venv-metaworld`, made by
`pip install ".[metaworld,test]"`); in the main venv it is skipped."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

metaworld = pytest.importorskip("metaworld", reason="Meta-World is tested in .venv-metaworld (make test)")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "metaworld_rabc.py"


def test_a_fresh_metaworld_install_steps_an_env():
    import gymnasium as gym
    import mujoco

    import robrew  # noqa: F401

    assert mujoco.__version__ == "3.3.0"  # Meta-World's pin, resolved with robrew's in one install
    env = gym.make("Meta-World/MT1", env_name="pick-place-v3", seed=0)
    obs, _ = env.reset(seed=0)
    obs, *_, info = env.step(env.action_space.sample())
    assert obs.shape == (39,) and "success" in info


def test_the_metaworld_example_runs_end_to_end(tmp_path):
    args = ["--episodes", "6", "--eval-episodes", "2", "--progress-steps", "30", "--bc-steps", "30"]
    run = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--out", str(tmp_path)], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads((tmp_path / "seed0" / "results.json").read_text())
    assert result["dataset"]["by_quality"] == {"clean": 2, "elsewhere": 2, "noisy": 2}
    # Success is read from Meta-World's info["success"] through the task file: the expert's clean
    # demos succeed (with the default info_is_success they would all read as failures).
    assert result["dataset"]["success_fraction"] >= 2 / 6
    assert set(result["policies"]) == {"none", "rabc"}
    assert all(p["success_rate"]["n"] == 2 for p in result["policies"].values())
