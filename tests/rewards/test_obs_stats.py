"""Input normalisation from demo observations: near-constant features are ignored, the rest clipped."""

import numpy as np
import pytest
import torch

from robrew.rewards.obs_stats import CLIP_STD, normalize_obs, obs_statistics


def test_statistics_exact_and_near_constant_features_ignored():
    obs = np.array([[0.0, 1.0, 5.0], [2.0, 1.0, 7.0], [4.0, 1.0 + 1e-4, 9.0]], np.float32)
    mean, std = obs_statistics(obs)
    np.testing.assert_allclose(mean, [2.0, 1.0 + 1e-4 / 3, 7.0], rtol=1e-6)
    np.testing.assert_allclose(std[[0, 2]], [np.sqrt(8 / 3)] * 2, rtol=1e-6)
    assert np.isinf(std[1])  # std 5e-5 << 0.1 x median std: the demos say nothing about it


def test_normalize_zeroes_ignored_features_and_clips_the_rest():
    mean, std = obs_statistics(np.array([[0.0, 1.0], [2.0, 1.0]], np.float32))
    x = torch.tensor([[1000.0, -3.0], [1.0, 1.0]])
    out = normalize_obs(x, torch.from_numpy(mean), torch.from_numpy(std))
    np.testing.assert_allclose(out.numpy(), [[CLIP_STD, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("bad", [np.zeros((0, 3)), np.zeros(3), np.array([[0.0, np.nan]])])
def test_bad_observations_are_rejected(bad):
    with pytest.raises(ValueError, match="obs_statistics|NaN"):
        obs_statistics(bad)


def test_observation_ranges_select_what_the_model_reads():
    from robrew.rewards.obs_stats import keep_only, parse_ranges

    mask = parse_ranges("0:2,5:", 7)
    assert mask.tolist() == [True, True, False, False, False, True, True]
    std = keep_only(np.ones(7, np.float32), mask)
    assert np.isinf(std[2:5]).all() and (std[mask] == 1).all()
    for bad, words in [("3", "start:stop"), ("a:b", "start:stop"), ("9:12", "select none")]:
        with pytest.raises(ValueError, match=words):
            parse_ranges(bad, 7)
