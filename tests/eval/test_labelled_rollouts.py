"""Labelled rollouts agree with the environment's own detectors."""

import mujoco
import numpy as np
import pytest

import robrew  # noqa: I001  (before mujoco)
from robrew.envs.humanoid_poses import pose_scores
from robrew.eval.labelled_rollouts import labelled_rollouts


def test_tabletop_sources_and_labels():
    seqs = labelled_rollouts("tabletop_reach", per_source=2, seed=0, frames=True)
    assert [s.source for s in seqs] == ["expert"] * 2 + ["noisy"] * 2 + ["random"] * 2
    for s in seqs:
        assert s.frames.shape[0] == len(s.obs) == len(s.labels) and s.frames.dtype == np.uint8
        assert s.success == bool(s.labels[-1]) and s.instruction
    assert all(s.success for s in seqs if s.source == "expert")
    assert not any(s.success for s in seqs if s.source == "random")
    # Replaying the first expert episode in a fresh env gives the same labels step by step.
    from robrew.envs.tabletop.expert import ScriptedExpert

    env = robrew.make_env("tabletop_reach")
    _, info = env.reset(seed=0)
    expert, labels = ScriptedExpert(env, seed=0), [float(info["is_success"])]
    for _ in range(len(seqs[0]) - 1):
        *_, info = env.step(expert.act())
        labels.append(float(info["is_success"]))
    np.testing.assert_array_equal(labels, seqs[0].labels)


def test_humanoid_labels_are_the_pose_detector():
    seqs = labelled_rollouts("humanoid_kneeling", per_source=2, seed=0, frames=False, steps=6)
    assert [s.source for s in seqs] == ["near", "near", "away", "away"]
    assert all(s.labels[0] == 0 for s in seqs)  # the neutral stance is not kneeling
    assert all(s.success for s in seqs if s.source == "near")  # a few degrees around the preset still kneel
    assert not any(s.success for s in seqs if s.source == "away")
    # The observation of the last frame, put back into the env, gives the same detector verdict.
    env = robrew.make_env("humanoid_kneeling").unwrapped
    env.reset(seed=0)
    for s in seqs:
        env.data.qpos[:] = np.concatenate([[0.0, 0.0], s.obs[-1][: env.model.nq - 2]])  # obs = qpos[2:], ...
        mujoco.mj_forward(env.model, env.data)
        assert float(pose_scores(env._features.read(env.data))["kneeling"] >= 0.5) == s.labels[-1]


def test_unsupported_task():
    with pytest.raises(ValueError, match="labelled rollouts"):
        labelled_rollouts("cartpole", per_source=1)


def test_dict_observation_tasks_are_scored_through_the_models_obs_keys():
    from robrew.eval.reward_eval import score_sequences
    from robrew.rewards import make_reward

    seqs = labelled_rollouts("tabletop_reach_goal", per_source=1, seed=0, frames=False)
    s = seqs[0]
    assert set(s.obs) == {"observation", "achieved_goal", "desired_goal"}
    assert all(v.dtype == np.float32 and len(v) == len(s) for v in s.obs.values())
    dim = s.obs["observation"].shape[1] + s.obs["desired_goal"].shape[1]
    model = make_reward("linear_obs", obs_dim=dim, obs_keys=["observation", "desired_goal"])
    scores = score_sequences(model, seqs)
    assert [len(x) for x in scores] == [len(x) for x in seqs]
    by_hand = model.score_episode(obs=np.concatenate([s.obs["observation"], s.obs["desired_goal"]], axis=1))
    np.testing.assert_allclose(scores[0], by_hand, rtol=1e-6)
    with pytest.raises(ValueError, match="obs_keys"):  # a model that reads one vector: one clear line
        score_sequences(make_reward("linear_obs", obs_dim=dim), seqs)
