"""Pose detectors on hand-set joint configurations that must and must not count."""

import gymnasium as gym
import numpy as np
import pytest

from robrew.envs.humanoid_poses import POSE_PRESETS, POSES, FeatureReader, pose_scores, set_joint_pose

# Poses a preset may legitimately also satisfy (arm poses are done standing up).
IMPLIED = {"arms_raised": {"standing"}, "hands_on_hips": {"standing"}, "arms_crossed": {"standing"}}


@pytest.fixture(scope="module")
def humanoid():
    env = gym.make("robrew/HumanoidPose-v0").unwrapped
    env.reset(seed=0)
    return env.model, env.data, FeatureReader(env.model)


def scores_for(humanoid, joints):
    model, data, reader = humanoid
    set_joint_pose(model, data, joints)
    return pose_scores(reader.read(data))


@pytest.mark.parametrize("pose", POSES)
def test_preset_counts_for_its_pose_only(humanoid, pose):
    scores = scores_for(humanoid, POSE_PRESETS[pose])
    assert scores[pose] >= 0.6, scores
    for other in POSES:
        if other != pose and other not in IMPLIED.get(pose, set()):
            assert scores[other] < 0.5, (other, scores)


def test_neutral_stance_is_standing_and_nothing_else(humanoid):
    scores = scores_for(humanoid, {})
    assert scores["standing"] > 0.5
    assert all(v < 0.5 for k, v in scores.items() if k != "standing"), scores


@pytest.mark.parametrize(
    "joints, not_pose",
    [
        ({"right_shoulder1": -72, "right_elbow": -53}, "arms_raised"),  # only one arm up
        ({"right_knee": -90, "left_knee": -90}, "standing"),  # deep squat-like bend
        ({"left_hip_y": -15, "left_knee": -15}, "one_leg"),  # foot barely off the floor
        ({"right_hip_z": -30, "left_hip_z": -30}, "splits"),  # legs apart but standing
    ],
)
def test_near_misses_do_not_count(humanoid, joints, not_pose):
    assert scores_for(humanoid, joints)[not_pose] < 0.5


def test_raised_knee_is_one_leg(humanoid):
    assert scores_for(humanoid, {"left_hip_y": -60, "left_knee": -30})["one_leg"] > 0.5


def test_kneeling_needs_a_knee_on_the_floor(humanoid):
    model, data, reader = humanoid
    set_joint_pose(model, data, POSE_PRESETS["kneeling"])
    data.qpos[2] += 0.3  # lift the whole body: knee no longer on the floor
    import mujoco

    mujoco.mj_forward(model, data)
    assert pose_scores(reader.read(data))["kneeling"] < 0.5


def test_env_reports_scores_and_episode_success():
    env = gym.make("robrew/HumanoidPose-v0", pose="standing", horizon=10)
    _, info = env.reset(seed=0)
    assert set(info["pose_scores"]) == set(POSES)
    u = env.unwrapped
    held = 0
    for _ in range(10):
        _, reward, _, _, info = env.step(np.zeros(env.action_space.shape))
        held += info["pose_detected"]
        assert reward == pytest.approx(info["pose_scores"]["standing"])
    assert info["held_steps"] == held
    assert info["is_success"] == (held >= 5)
    assert u.horizon == 10


def test_unknown_pose_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown pose 'dab'"):
        gym.make("robrew/HumanoidPose-v0", pose="dab")


@pytest.mark.parametrize("held, success", [(50, True), (49, False)])
def test_success_is_the_pose_held_on_50_of_100_steps(held, success):
    """VLM-RM's rule: exactly 50 detected steps of 100 count, 49 do not (wherever they fall)."""
    env = gym.make("robrew/HumanoidPose-v0", pose="kneeling")
    u = env.unwrapped
    detected = iter([False] + [t % 2 == 0 for t in range(2 * held)] + [False] * 100)  # reset, then 100 steps
    real = u._pose_info

    def scripted():
        info = real()
        return {**info, "pose_detected": next(detected)}

    u._pose_info = scripted
    env.reset(seed=0)
    for t in range(100):
        _, _, terminated, truncated, info = env.step(np.zeros(env.action_space.shape))
        assert not terminated and truncated == (t == 99)
    assert info["held_steps"] == held and info["is_success"] is success
