"""RA-BC weights on hand-made deltas: exact values, including the κ and negative cases."""

import numpy as np
import pytest
import torch

from robrew.training.rabc import failure_tails, progress_deltas, rabc_weights, weighted_loss


def test_weights_exact():
    r = np.array([-0.2, 0.0, 0.1, 0.2, 0.3, 0.6])
    mu, sigma = max(r.mean(), 0.0), r.std()  # 1/6; sqrt(0.37333 / 6) = 0.24944
    soft = lambda x: np.clip((x - (mu - 2 * sigma)) / (4 * sigma + 1e-6), 0, 1)  # noqa: E731
    w = rabc_weights(r, kappa=0.25)
    expected = [0.0, soft(0.0), soft(0.1), soft(0.2), 1.0, 1.0]  # negative -> 0; above kappa -> 1
    np.testing.assert_allclose(w, expected)
    # Hand arithmetic for one value: (0.1 - (1/6 - 2σ)) / (4σ).
    assert w[2] == pytest.approx((0.1 - (1 / 6 - 2 * sigma)) / (4 * sigma + 1e-6))
    assert w[1] == pytest.approx(0.33296, abs=1e-4)  # (0 - (1/6 - 0.49889)) / 0.99778


def test_mean_floored_at_zero():
    r = np.array([-0.5, -0.4, 0.0, 0.1])  # mean < 0 -> mu = 0
    sigma = r.std()
    w = rabc_weights(r, kappa=1.0)
    np.testing.assert_allclose(w[2:], np.clip((r[2:] + 2 * sigma) / (4 * sigma + 1e-6), 0, 1))
    assert w[0] == w[1] == 0.0


def test_kappa_boundary_is_soft_and_above_is_one():
    r = np.array([0.0, 0.5, 0.5000001, 1.0])
    w = rabc_weights(r, kappa=0.5)
    assert w[2] == w[3] == 1.0 and w[1] <= 1.0


def test_completed_samples_get_full_weight():
    r = np.array([-0.2, 0.0, 0.1, -0.01, 0.0])
    phi = np.array([0.3, 0.5, 0.5, 0.96, 1.0])  # the last two: the task is already done
    plain = rabc_weights(r, kappa=0.25)
    w = rabc_weights(r, kappa=0.25, progress=phi, complete_at=0.95)
    np.testing.assert_allclose(w[:3], plain[:3])  # unchanged below the threshold
    assert plain[3] == 0.0 and w[3] == 1.0 and w[4] == 1.0  # a small dip after completion is not a mistake
    np.testing.assert_allclose(rabc_weights(r, kappa=0.25, progress=phi, complete_at=None), plain)
    with pytest.raises(ValueError, match="one progress value per delta"):
        rabc_weights(r, kappa=0.25, progress=phi[:3], complete_at=0.95)


def test_deltas_clamp_at_episode_end():
    d = progress_deltas([np.array([0.0, 0.1, 0.3, 0.6, 1.0])], chunk=2)[0]
    np.testing.assert_allclose(d, [0.3, 0.5, 0.7, 0.4, 0.0])
    with pytest.raises(ValueError):
        progress_deltas([np.zeros(3)], chunk=0)


def test_weighted_loss():
    losses, w = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([1.0, 0.0, 0.5])
    assert weighted_loss(losses, w).item() == pytest.approx((1 + 2) / 1.5)
    assert weighted_loss(losses, torch.zeros(3)).item() == 0.0


def test_failure_tails_start_at_a_failed_episodes_first_peak():
    phi = [np.array([0.1, 0.5, 0.2, 0.5, 0.0]), np.array([0.1, 0.5, 0.2, 0.5, 0.0]), np.array([0.9, 0.1, 0.0])]
    tails = failure_tails(phi, [False, True, False])
    np.testing.assert_array_equal(tails[0], [False, True, True, True])  # first maximum: frame 1
    np.testing.assert_array_equal(tails[1], [False] * 4)  # a success keeps every step
    np.testing.assert_array_equal(tails[2], [True, True])  # never advanced after its first frame
    with pytest.raises(ValueError, match="2 progress curves for 1 success flags"):
        failure_tails(phi[:2], [False])
