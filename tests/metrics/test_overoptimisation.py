"""The over-optimisation watch: proxy up while ground truth down, warned once."""

import warnings

import pytest

from robrew.eval.media import plot_proxy_vs_success
from robrew.metrics.overoptimisation import (
    OverOptimisationWarning,
    OverOptimisationWatch,
    is_overoptimising,
    rank_correlation,
)


@pytest.mark.parametrize(
    ("proxy", "success", "expected"),
    [
        ([1, 2, 3, 4], [0.6, 0.5, 0.3, 0.2], True),  # proxy up, success down: exploiting the reward
        ([1, 2, 3, 4], [0.2, 0.3, 0.5, 0.6], False),  # both up: healthy
        ([4, 3, 2, 1], [0.6, 0.5, 0.3, 0.2], False),  # both down: just failing
        ([1, 2, 3, 4], [0.5, 0.5, 0.48, 0.47], False),  # a dip below min_drop is noise
        ([1, 2, 3], [0.6, 0.5, 0.3], False),  # fewer points than the window
        ([0, 0, 1, 2, 3, 4], [0.1, 0.2, 0.6, 0.5, 0.3, 0.2], True),  # only the last window counts
    ],
)
def test_is_overoptimising(proxy, success, expected):
    assert is_overoptimising(proxy, success, window=4, min_drop=0.1) is expected


def test_watch_warns_once(tmp_path):
    watch = OverOptimisationWatch(window=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flags = [
            watch.update(t * 1000, p, s) for t, (p, s) in enumerate([(1, 0.6), (2, 0.4), (3, 0.2), (4, 0.1), (5, 0.0)])
        ]
    assert flags == [False, False, True, True, True]
    ours = [str(w.message) for w in caught if issubclass(w.category, OverOptimisationWarning)]
    trend = [m for m in ours if "over-optimisation" in m]
    assert len(trend) == 1 and "2000 steps" in trend[0] and "60% -> 20%" in trend[0]
    assert watch.warned_at == 2000
    # The rank correlation turned negative too: warned once, from the 4th evaluation (min_points).
    apart = [m for m in ours if "no longer rise together" in m]
    assert len(apart) == 1 and "3000 steps" in apart[0] and "-1.00" in apart[0] and watch.decorrelated_at == 3000
    assert plot_proxy_vs_success([0, 1, 2], [1, 2, 3], [0.5, 0.4, 0.1], tmp_path / "p.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="window"):
        is_overoptimising([1], [1], window=2)


def test_rank_correlation_of_model_return_and_success():
    # Ranks 1 2 3 4 against 1 2.5 2.5 4: Pearson of the ranks = 0.9487 (worked by hand).
    assert rank_correlation([1.0, 2.0, 3.0, 4.0], [0.1, 0.2, 0.2, 0.5]) == pytest.approx(0.9486833, abs=1e-6)
    assert rank_correlation([1, 2, 3, 4], [0.2, 0.1, 0.4, 0.3]) == pytest.approx(0.6, abs=1e-12)  # 1 - 6*4/60
    assert rank_correlation([1, 5, 2, 8], [0.9, 0.1, 0.5, 0.0]) == pytest.approx(-1.0, abs=1e-12)
    assert rank_correlation([1, 2], [0.1, 0.2]) != rank_correlation([1, 2], [0.1, 0.2])  # NaN: too few points
    assert rank_correlation([1, 2, 3], [0.0, 0.0, 0.0]) != rank_correlation([1, 2, 3], [0.0, 0.0, 0.0])  # constant
    assert rank_correlation([1, float("nan"), 2, 3], [0.1, 0.5, 0.2, 0.3]) == pytest.approx(1.0)  # NaN pairs dropped


def test_a_healthy_run_never_warns():
    watch = OverOptimisationWatch(window=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OverOptimisationWarning)
        for t, (p, s) in enumerate([(1, 0.0), (2, 0.1), (3, 0.1), (4, 0.4), (5, 0.8)]):
            assert watch.update(t, p, s) is False
    assert watch.spearman > 0.9 and watch.decorrelated_at is None
