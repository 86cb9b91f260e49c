"""Departures from episode-level success flags: the cross-fitted success classifier."""

from types import SimpleNamespace

import numpy as np

from robrew.training.outcome import first_sustained_low, outcome_departures, outcome_probabilities, smooth

SPLIT = 20  # frame where failed episodes start heading the wrong way


def _episodes(n_each: int = 12, length: int = 60, seed: int = 0) -> list:
    """Observations [x, y, goal]: every episode moves x along the same path; from frame SPLIT on,
    successful ones move y up and failed ones down. ``goal`` is an episode constant (each episode
    its own), which a classifier could use to recognise an episode it was trained on."""
    rng = np.random.default_rng(seed)
    out = []
    for success in [True] * n_each + [False] * n_each:
        t = np.arange(length, dtype=np.float32)
        y = np.clip(t - SPLIT, 0, None) / 20.0 * (1 if success else -1)
        obs = np.stack([t / length, y, np.full(length, rng.normal())], axis=1)
        obs += rng.normal(0.0, 0.02, obs.shape)
        out.append(SimpleNamespace(success=success, observations=obs.astype(np.float32)))
    return out


def test_a_failure_is_found_where_it_leaves_the_successful_path():
    demos = _episodes()
    failed = [i for i, d in enumerate(demos) if not d.success]
    found = outcome_departures(demos, failed)
    assert set(found) == set(failed)
    departures = np.array([found[i] for i in failed if found[i] is not None])
    assert len(departures) >= 0.75 * len(failed)  # the rest stay to the other rules (peak, overrun)
    # Not before the paths split (the goal constant alone must not give an episode away: each
    # probability comes from a classifier that never saw that episode), and soon after it.
    assert np.all(departures >= SPLIT - 2) and np.median(departures) <= SPLIT + 12


def test_probabilities_are_high_on_the_successful_path_and_low_off_it():
    demos = _episodes()
    probs = outcome_probabilities(demos, list(range(len(demos))))
    late_success = np.mean([probs[i][-10:].mean() for i, d in enumerate(demos) if d.success])
    late_failure = np.mean([probs[i][-10:].mean() for i, d in enumerate(demos) if not d.success])
    assert late_success > 0.8 and late_failure < 0.2


def test_too_few_of_one_outcome_gives_no_departures():
    demos = _episodes()
    one_failure = [d for d in demos if d.success] + [d for d in demos if not d.success][:1]
    assert outcome_departures(one_failure, [len(one_failure) - 1]) == {}


def test_sustained_low_needs_a_confident_start_and_a_long_enough_drop():
    assert first_sustained_low(np.array([0.6] * 5 + [0.0] * 20), 0.2, 10) == 6
    assert first_sustained_low(np.array([0.3] * 5 + [0.0] * 20), 0.2, 10) is None  # never confident
    blip = np.array([0.6] * 5 + [0.0] * 3 + [0.6] * 20)
    assert first_sustained_low(blip, 0.2, 10) is None  # a 3-frame dip is not a departure
    assert first_sustained_low(np.array([0.6] * 20 + [0.0] * 4), 0.2, 10) == 21  # to the end


def test_smoothing_keeps_the_length_and_the_edges():
    np.testing.assert_allclose(smooth(np.array([0, 0, 0, 5, 0, 0, 0.0])), [0, 1, 1, 1, 1, 1, 0])
    np.testing.assert_allclose(smooth(np.ones(7)), np.ones(7))  # the ends are not pulled towards 0
