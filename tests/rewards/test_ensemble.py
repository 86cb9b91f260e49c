"""Ensemble combination rules and running normalisation, against numpy."""

import numpy as np
import pytest

from robrew.rewards import make_reward
from robrew.rewards.ensemble import EnsembleReward, NormalizedReward
from robrew.rewards.simple import FrameMeanReward


def members():
    return [FrameMeanReward(scale=s) for s in (1.0, 2.0, 0.5)]


@pytest.mark.parametrize("mode", ["mean", "min", "uncertainty", "pessimistic"])
def test_ensemble_modes(mode):
    f = np.random.default_rng(0).integers(0, 256, size=(6, 4, 4, 3), dtype=np.uint8)
    each = np.stack([m.score(frames=f) for m in members()])
    expected = {
        "mean": each.mean(0),
        "min": each.min(0),
        "uncertainty": each.mean(0) - 0.3 * each.var(0),
        "pessimistic": each.mean(0) - 0.3 * each.std(0),
    }[mode]
    got = EnsembleReward(members(), mode=mode, lam=0.3).score(frames=f)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_ensemble_from_specs_and_flags():
    ens = make_reward("ensemble", members=[{"name": "frame_mean"}, {"name": "linear_obs", "obs_dim": 2}])
    assert ens.needs_frames and ens.needs_obs and ens.is_trainable
    out = ens.score(frames=np.zeros((3, 2, 2, 3), np.uint8), obs=np.zeros((3, 2), np.float32))
    assert out.shape == (3,)
    with pytest.raises(ValueError, match="ensemble mode"):
        EnsembleReward(members(), mode="median")


def test_ensemble_members_must_read_the_same_inputs():
    a = make_reward("linear_obs", obs_dim=2, obs_keys=["observation"])
    b = make_reward("linear_obs", obs_dim=2, obs_keys=["desired_goal"])
    with pytest.raises(ValueError, match="same obs_keys"):
        EnsembleReward([a, b])
    twin = make_reward("linear_obs", obs_dim=2, obs_keys=["observation"])
    twin.load_state_dict(a.state_dict())
    same = EnsembleReward([a, twin])
    assert same.obs_keys == ("observation",)  # Dict observations are flattened once, for every member
    obs = {"observation": np.ones((3, 2), np.float32), "desired_goal": np.zeros((3, 2), np.float32)}
    np.testing.assert_allclose(same.disagreement(obs=obs), np.zeros(3), atol=0)  # identical members agree


def test_running_normalisation_matches_numpy():
    rng = np.random.default_rng(1)
    norm = NormalizedReward(FrameMeanReward(scale=1.0), clip=None)
    seen = []
    for _ in range(5):
        f = rng.integers(0, 256, size=(8, 2, 2, 3), dtype=np.uint8)
        seen.append(f.reshape(8, -1).mean(1))
        out = norm.score(frames=f)
    allr = np.concatenate(seen)
    assert norm.mean.item() == pytest.approx(allr.mean(), rel=1e-6)
    assert norm.var.item() == pytest.approx(allr.var(), rel=1e-5)
    np.testing.assert_allclose(out, (seen[-1] - allr.mean()) / np.sqrt(allr.var() + 1e-8), rtol=1e-4)
    norm.update = False
    before = norm.count.item()
    norm.score(frames=f)
    assert norm.count.item() == before
