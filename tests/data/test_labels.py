"""Progress labels on hand-made annotated episodes: exact values."""

import numpy as np
import pytest

from robrew.data.labels import (
    Span,
    dataset_prior,
    episode_labels,
    spans_from_steps,
    stage_frames,
    stage_labels,
    stage_of_progress,
)


def test_prior_and_labels_exact():
    # Two demos of 10 steps, 3 subtasks.
    a = [Span(0, 0, 2), Span(1, 2, 6), Span(2, 6, 10)]  # fractions .2 .4 .4
    b = [Span(0, 0, 4), Span(1, 4, 6), Span(2, 6, 10)]  # fractions .4 .2 .4
    prior = dataset_prior([(a, 10), (b, 10)], 3)
    np.testing.assert_allclose(prior, [0.3, 0.3, 0.4])
    lab = stage_labels(a, 10, prior)
    np.testing.assert_array_equal(lab.stage, [0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    np.testing.assert_allclose(lab.tau, [0, 0.5, 0, 0.25, 0.5, 0.75, 0, 0.25, 0.5, 0.75])
    expected = [0, 0.15, 0.3, 0.375, 0.45, 0.525, 0.6, 0.7, 0.8, 0.9]
    np.testing.assert_allclose(lab.progress, expected, atol=1e-7)
    assert np.all(np.diff(lab.progress) > 0)


def test_docstring_example():
    spans = [Span(0, 0, 4), Span(1, 4, 10)]
    prior = dataset_prior([(spans, 10)], 2)
    assert stage_labels(spans, 10, prior).progress[5] == pytest.approx(0.5)


def test_repeated_stage_falls_back():
    # reach, grasp, reach again (regrasp), grasp: progress drops when the stage restarts.
    spans = [Span(0, 0, 2), Span(1, 2, 4), Span(0, 4, 6), Span(1, 6, 8)]
    prior = dataset_prior([(spans, 8)], 2)
    np.testing.assert_allclose(prior, [0.5, 0.5])
    y = stage_labels(spans, 8, prior).progress
    np.testing.assert_allclose(y, [0, 0.25, 0.5, 0.75, 0, 0.25, 0.5, 0.75])


@pytest.mark.parametrize(
    "spans, length, message",
    [
        ([], 5, "no subtask annotations"),
        ([Span(0, 1, 5)], 5, "cover steps 0..5"),
        ([Span(0, 0, 2), Span(1, 3, 5)], 5, "contiguous"),
        ([Span(0, 0, 2), Span(7, 2, 5)], 5, "invalid span"),
    ],
)
def test_bad_annotations(spans, length, message):
    with pytest.raises(ValueError, match=message):
        dataset_prior([(spans, length)], 2)


def test_spans_from_steps():
    assert spans_from_steps([0, 0, 1, 1, 1, 0]) == [Span(0, 0, 2), Span(1, 2, 5), Span(0, 5, 6)]


def test_off_task_frames_undo_progress():
    # Stages 0,0 | 1,1,1 | then the demonstrator heads for the wrong goal from frame 5.
    prior = np.array([0.2, 0.3, 0.5])
    lab = episode_labels([0, 0, 1, 1, 1, 2, 2, 2, 2, 2], prior, off_task_from=5)
    # Before: y = [0, .1, .2, .3, .4]; after: falls by y_4 / 5 = 0.08 per frame, floored at 0.
    np.testing.assert_allclose(lab.progress, [0, 0.1, 0.2, 0.3, 0.4, 0.32, 0.24, 0.16, 0.08, 0.0], atol=1e-6)
    np.testing.assert_array_equal(lab.stage, [0, 0, 1, 1, 1, 1, 1, 0, 0, 0])
    np.testing.assert_allclose(lab.tau[5:], [0.4, 2 / 15, 0.8, 0.4, 0.0], atol=1e-6)
    whole = episode_labels([0, 0, 1], prior, off_task_from=0)
    np.testing.assert_array_equal(whole.progress, [0, 0, 0])


def test_stage_of_progress_inverts_the_prior():
    prior = np.array([0.2, 0.0, 0.3, 0.5])
    stage, tau = stage_of_progress(np.array([0.0, 0.1, 0.2, 0.35, 0.5, 1.0]), prior)
    np.testing.assert_array_equal(stage, [0, 0, 2, 2, 3, 3])  # the empty stage 1 never holds progress
    np.testing.assert_allclose(tau, [0, 0.5, 0, 0.5, 0, 1], atol=1e-6)


def test_no_jump_before_a_marked_mistake():
    # One stage; clean demos take 40 frames. A failing demo marked at frame 30 was 30 frames into
    # that 40-frame subtask: at frame 29 it has made as much progress as a clean demo (29/40),
    # not 29/30 (the old labels, which jumped to 0.97 just before the mark).
    clean = [0] * 40
    prior = dataset_prior([(spans_from_steps(clean), 40)], n_stages=1)
    frames = stage_frames([(spans_from_steps(clean), 40)], n_stages=1)
    assert frames.tolist() == [40.0]
    ref = episode_labels(clean, prior).progress
    failing = episode_labels([0] * 60, prior, off_task_from=30, frames_per_stage=frames).progress
    np.testing.assert_allclose(failing[:30], ref[:30])
    assert failing[29] == pytest.approx(29 / 40)
    assert np.all(np.diff(failing[30:]) <= 0) and failing[30] < failing[29]  # then undone
    old = episode_labels([0] * 60, prior, off_task_from=30).progress  # without the stage lengths
    assert old[29] == pytest.approx(29 / 30)
    # Two stages: the interrupted one is the second; the first, completed, keeps its own pace.
    two = [0] * 10 + [1] * 30
    prior2 = dataset_prior([(spans_from_steps(two), 40)], n_stages=2)
    frames2 = stage_frames([(spans_from_steps(two), 40)], n_stages=2)
    lab = episode_labels([0] * 8 + [1] * 40, prior2, off_task_from=23, frames_per_stage=frames2)
    assert lab.progress[7] == pytest.approx(prior2[0] * 7 / 8)  # stage 0 done in 8 frames: τ over 8
    assert lab.progress[22] == pytest.approx(prior2[0] + prior2[1] * 14 / 30)  # 14 frames into a 30-frame stage
