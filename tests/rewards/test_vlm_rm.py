"""The VLM-RM formula against a direct numpy computation."""

import numpy as np
import pytest
import torch

from robrew.rewards.clip.vlm_rm import prompt_set_embedding, vlm_rm_reward


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def numpy_reward(x, g, b, alpha):
    d = g - b
    P = np.outer(d, d) / (d @ d)
    M = alpha * P + (1 - alpha) * np.eye(len(d))
    return np.array([1 - 0.5 * np.sum((M @ (xi - g)) ** 2) for xi in x])


@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 0.9, 1.0])
def test_reward_equals_numpy_formula(alpha):
    rng = np.random.default_rng(int(alpha * 100))
    x, g, b = unit(rng.normal(size=(16, 24))), unit(rng.normal(size=24)), unit(rng.normal(size=24))
    got = vlm_rm_reward(torch.tensor(x), torch.tensor(g), torch.tensor(b), alpha).numpy()
    np.testing.assert_allclose(got, numpy_reward(x, g, b, alpha), rtol=1e-5, atol=1e-6)


def test_alpha_zero_ranks_exactly_as_cosine_similarity():
    rng = np.random.default_rng(1)
    x, g, b = unit(rng.normal(size=(50, 32))), unit(rng.normal(size=32)), unit(rng.normal(size=32))
    r = vlm_rm_reward(torch.tensor(x), torch.tensor(g), torch.tensor(b), 0.0).numpy()
    cosine = x @ g
    np.testing.assert_array_equal(np.argsort(r), np.argsort(cosine))
    np.testing.assert_allclose(r, cosine, atol=1e-6)  # for unit vectors it is cosine itself


def test_alpha_one_only_sees_the_goal_baseline_direction():
    rng = np.random.default_rng(2)
    g, b = unit(rng.normal(size=16)), unit(rng.normal(size=16))
    d = (g - b) / np.linalg.norm(g - b)
    x = unit(rng.normal(size=(1, 16)))
    orth = rng.normal(size=16)
    orth -= (orth @ d) * d  # a move orthogonal to d changes nothing at alpha = 1
    r1 = vlm_rm_reward(torch.tensor(x), torch.tensor(g), torch.tensor(b), 1.0)
    r2 = vlm_rm_reward(torch.tensor(x + 0.1 * orth), torch.tensor(g), torch.tensor(b), 1.0)
    assert torch.allclose(r1, r2, atol=1e-6)


def test_prompt_set_is_normalised_average_renormalised():
    e = np.array([[3.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(prompt_set_embedding(torch.tensor(e)).numpy(), unit(np.array([1.0, 1.0])), atol=1e-7)


def test_alpha_out_of_range():
    with pytest.raises(ValueError, match="alpha"):
        vlm_rm_reward(torch.zeros(1, 2), torch.ones(2), torch.zeros(2), 1.5)
