"""Wilson intervals of success rates: inside [0, 1], around the mean, for every n up to 200."""

import pytest

from robrew.metrics.rollouts import success_rate


@pytest.mark.parametrize("value", [False, True])
def test_interval_stays_in_bounds_at_0_and_100_percent(value):
    for n in range(1, 201):
        r = success_rate([value] * n)
        assert 0.0 <= r["low"] <= r["mean"] <= r["high"] <= 1.0, (n, r)
        assert r["mean"] == float(value) and r["n"] == n
        assert (r["high"] - r["low"]) > 0  # a finite sample never pins the rate down


def test_known_values_and_empty():
    r = success_rate([True] * 8 + [False] * 2)
    assert (
        r["mean"] == 0.8 and r["low"] == pytest.approx(0.490, abs=1e-3) and r["high"] == pytest.approx(0.943, abs=1e-3)
    )
    assert success_rate([])["n"] == 0
