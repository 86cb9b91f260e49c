"""Demonstrations, the progress model, BC / RA-BC and the main job on a Dict-observation env
(``tabletop_reach_goal``: ``observation`` / ``achieved_goal`` / ``desired_goal``)."""

import json

import numpy as np
import pytest

from robrew.data.collect import collect_demos
from robrew.data.demos import flat_demos, load_demos
from robrew.env_factory import make_env
from robrew.envs.tabletop.env import GOAL_OBS
from robrew.jobs.rabc import RabcExperimentConfig, run_rabc_experiment
from robrew.metrics.rollouts import run_episodes, success_rate
from robrew.rewards import load_reward_model, save_reward_model
from robrew.training.bc import BCConfig, load_policy, save_policy, train_bc
from robrew.training.progress import ProgressTrainConfig, fit_progress_model

KEYS = ("achieved_goal", "desired_goal", "observation")


@pytest.fixture(scope="module")
def demos(tmp_path_factory):
    root = collect_demos("tabletop_reach_goal", tmp_path_factory.mktemp("ds"), episodes=24, seed=0, image_size=16)
    return load_demos(root)


def test_dict_demos_round_trip_through_minari(demos):
    d = demos[0]
    assert set(d.observations) == set(KEYS)
    assert {k: v.shape for k, v in d.observations.items()} == {
        "achieved_goal": (51, 3),
        "desired_goal": (51, 3),
        "observation": (51, 26),
    }
    np.testing.assert_array_equal(d.observations["achieved_goal"], d.observations["observation"][:, GOAL_OBS["grip"]])
    assert np.ptp(d.observations["desired_goal"], axis=0).max() == 0  # one target per episode
    # The scripted expert reaches the env's target; a failing one heads 15 cm beside it.
    assert {d.success for d in demos if d.quality == "clean"} == {True}
    assert {d.success for d in demos if d.quality == "failing"} == {False}


def test_flat_demos_reads_the_chosen_keys_in_order(demos):
    flat, keys = flat_demos(demos)
    assert keys == KEYS and flat[0].observations.shape == (51, 32)  # every key, sorted
    flat, keys = flat_demos(demos, ["desired_goal", "achieved_goal"])
    np.testing.assert_array_equal(
        flat[3].observations,
        np.concatenate([demos[3].observations["desired_goal"], demos[3].observations["achieved_goal"]], axis=1),
    )
    with pytest.raises(ValueError, match=r"\['goal'\] are not among the observation's keys"):
        flat_demos(demos, ["goal"])
    assert flat_demos(flat)[1] is None  # array observations pass through


def test_progress_model_bc_and_rabc_on_dict_demos(demos, tmp_path):
    model, report = fit_progress_model(
        demos, ProgressTrainConfig(steps=300, obs_keys=["observation", "desired_goal"], hidden=64)
    )
    assert model.obs_keys == ("observation", "desired_goal") and model.obs_dim == 29
    save_reward_model(model, tmp_path / "pm")
    progress = load_reward_model(tmp_path / "pm")
    assert progress.obs_keys == model.obs_keys  # saved with the model
    policy, _ = train_bc(demos, BCConfig(steps=300, hidden=128))
    weighted, rep = train_bc(demos, BCConfig(steps=300, hidden=128, weighting="rabc"), progress_model=progress)
    assert 0.0 < rep["mean_weight"] < 1.0  # the progress model read the Dict demos and told steps apart
    save_policy(weighted, tmp_path / "rabc")
    assert load_policy(tmp_path / "rabc").obs_keys == KEYS  # the policy's keys are saved too

    env_fn = lambda render: make_env("tabletop_reach_goal")  # noqa: E731
    cloned = run_episodes(env_fn, policy.actor(), 10, seed=1000, reward_model=progress)
    assert all(len(e.model_rewards) == len(e.env_rewards) == 50 for e in cloned)  # Dict rollouts scored per step
    still = run_episodes(env_fn, lambda obs: np.zeros(4, np.float32), 10, seed=1000)
    # A real effect: the cloned policy reaches targets that standing still does not.
    assert success_rate([e.success for e in cloned])["mean"] > success_rate([e.success for e in still])["mean"]


def test_main_job_on_a_dict_env(tmp_path):
    cfg = RabcExperimentConfig(
        task="tabletop_reach_goal",
        episodes=8,
        image_size=16,
        progress=ProgressTrainConfig(steps=30, hidden=32),
        bc=BCConfig(steps=30, chunk=4, hidden=32),
        eval_episodes=2,
        videos=0,
        out_dir=str(tmp_path / "run"),
    )
    result = run_rabc_experiment(cfg)
    assert set(result["policies"]) == {"none", "rabc"}
    assert json.loads((tmp_path / "run" / "policies" / "rabc" / "bc_policy.json").read_text())["obs_keys"] == list(KEYS)
    saved = json.loads((tmp_path / "run" / "progress_model" / "reward_model.json").read_text())
    assert saved["config"]["obs_keys"] == list(KEYS)
