"""The over-optimisation watch: proxy up while ground truth down, warned once."""

import warnings

import pytest

from robrew.eval.media import plot_proxy_vs_success
from robrew.metrics.overoptimisation import (
    OverOptimisationWarning,
    OverOptimisationWatch,
    is_overoptimising,
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
    ours = [w for w in caught if issubclass(w.category, OverOptimisationWarning)]
    assert len(ours) == 1 and "2000 steps" in str(ours[0].message) and "60% -> 20%" in str(ours[0].message)
    assert watch.warned_at == 2000
    assert plot_proxy_vs_success([0, 1, 2], [1, 2, 3], [0.5, 0.4, 0.1], tmp_path / "p.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="window"):
        is_overoptimising([1], [1], window=2)
