"""Stage-aware progress labels from subtask annotations (SARM-style).

Convention: a span covers steps ``start <= t < end`` (half-open; the next span starts at
``end``), and an episode has T steps. For subtask k:

    ᾱ_k = mean over demos of (e_k - s_k) / T          (the dataset prior; sums to 1 over k)
    P_{k-1} = Σ_{j<k} ᾱ_j
    τ_t = clip((t - s_k) / (e_k - s_k), 0, 1)
    y_t = P_{k-1} + ᾱ_k τ_t

A subtask that occurs twice in one demo (e.g. a regrasp) counts its total duration in the
prior, and each occurrence restarts τ from 0, so progress falls back when work is undone.

Example:
    >>> spans = [Span(0, 0, 4), Span(1, 4, 10)]
    >>> prior = dataset_prior([(spans, 10)], n_stages=2)   # [0.4, 0.6]
    >>> stage_labels(spans, 10, prior).progress[5]            # 0.4 + 0.6 * 1/6
    0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from robrew.spans import Span, spans_from_steps

__all__ = [
    "Labels",
    "Span",
    "active_spans",
    "check_spans",
    "dataset_prior",
    "episode_labels",
    "spans_from_steps",
    "stage_frames",
]


@dataclass(frozen=True)
class Labels:
    """Per-step labels of one episode."""

    stage: np.ndarray  # int64 [T]
    tau: np.ndarray  # float32 [T], within-stage progress
    progress: np.ndarray  # float32 [T], overall progress in [0, 1]


def check_spans(spans: Sequence[Span], length: int, n_stages: int) -> None:
    """Raises ``ValueError`` unless the spans tile ``0..length`` in order with valid stages."""
    if not spans:
        raise ValueError("episode has no subtask annotations")
    if spans[0].start != 0 or spans[-1].end != length:
        raise ValueError(f"annotations must cover steps 0..{length}, got {spans[0].start}..{spans[-1].end}")
    for a, b in zip(spans, spans[1:]):
        if a.end != b.start:
            raise ValueError(f"annotations must be contiguous: a span ends at {a.end}, the next starts at {b.start}")
    for s in spans:
        if not 0 <= s.stage < n_stages or s.end <= s.start:
            raise ValueError(f"invalid span {s} for {n_stages} stages")


def dataset_prior(episodes: Sequence[tuple[Sequence[Span], int]], n_stages: int) -> np.ndarray:
    """ᾱ: mean fraction of each episode spent in each subtask, shape [K].

    Args:
        episodes: (spans, episode length) per demonstration (usually successful ones only).
        n_stages: K.
    """
    if not episodes:
        raise ValueError("the dataset prior needs at least one annotated episode")
    fractions = np.zeros((len(episodes), n_stages))
    for i, (spans, length) in enumerate(episodes):
        check_spans(spans, length, n_stages)
        for s in spans:
            fractions[i, s.stage] += (s.end - s.start) / length
    return fractions.mean(axis=0)


def stage_frames(episodes: Sequence[tuple[Sequence[Span], int]], n_stages: int) -> np.ndarray:
    """Mean number of frames each subtask takes (all its occurrences in an episode together),
    over ``episodes`` ((spans, length) of successful demos, as for :func:`dataset_prior`), shape [K]."""
    if not episodes:
        raise ValueError("stage durations need at least one annotated episode")
    frames = np.zeros((len(episodes), n_stages))
    for i, (spans, length) in enumerate(episodes):
        check_spans(spans, length, n_stages)
        for s in spans:
            frames[i, s.stage] += s.end - s.start
    return frames.mean(axis=0)


def stage_labels(
    spans: Sequence[Span], length: int, prior: np.ndarray, interrupted_frames: float | None = None
) -> Labels:
    """Stage index, τ and progress y for every step of one annotated episode.

    ``interrupted_frames``: the last span was cut short (the episode went wrong inside it), so
    its τ grows at the pace of a subtask that takes that many frames, not up to 1 at the cut.
    """
    check_spans(spans, length, len(prior))
    cumulative = np.concatenate([[0.0], np.cumsum(prior)])
    stage = np.empty(length, dtype=np.int64)
    tau = np.empty(length, dtype=np.float32)
    for i, s in enumerate(spans):
        t = np.arange(s.start, s.end)
        stage[s.start : s.end] = s.stage
        duration = s.end - s.start
        if interrupted_frames is not None and i == len(spans) - 1:
            duration = max(duration, interrupted_frames)
        tau[s.start : s.end] = np.clip((t - s.start) / duration, 0.0, 1.0)
    progress = (cumulative[stage] + prior[stage] * tau).astype(np.float32)
    return Labels(stage=stage, tau=tau, progress=progress)


def episode_labels(
    stages: Sequence[int],
    prior: np.ndarray,
    done_at: int | None = None,
    off_task_from: int | None = None,
    frames_per_stage: np.ndarray | None = None,
) -> Labels:
    """Labels from per-frame annotations.

    Frames from ``done_at`` on (the task is complete, e.g. the first success) are labelled
    finished: last stage, τ = 1, progress 1. Frames from ``off_task_from`` on (the
    demonstrator is pursuing the wrong goal) undo work: progress falls from its value before
    the mistake at the average pace it was made (y_{f-1} / f per frame), floored at 0, like
    a rewound video; stage and τ are read back from that progress through the prior. The
    subtask the mistake interrupts was not finished: with ``frames_per_stage`` (see
    :func:`stage_frames`) its τ before the mistake grows at that subtask's usual pace, as in a
    successful demo, instead of reaching 1 at the mistake.
    """
    stages = np.asarray(stages)
    if off_task_from is not None:
        f = max(0, min(int(off_task_from), len(stages)))
        head = None
        if f > 0:
            spans = spans_from_steps(stages[:f])
            usual = None if frames_per_stage is None else float(frames_per_stage[spans[-1].stage])
            head = stage_labels(spans, f, prior, interrupted_frames=usual)
        y0 = float(head.progress[-1]) if head is not None else 0.0
        rate = y0 / f if f > 0 else 0.0
        tail = np.maximum(0.0, y0 - rate * np.arange(1, len(stages) - f + 1)).astype(np.float32)
        stage, tau = stage_of_progress(tail, prior)
        if head is None:
            return Labels(stage=stage, tau=tau, progress=tail)
        return Labels(
            stage=np.concatenate([head.stage, stage]),
            tau=np.concatenate([head.tau, tau]),
            progress=np.concatenate([head.progress, tail]),
        )
    active = len(stages) if done_at is None else max(1, min(done_at, len(stages)))
    lab = stage_labels(spans_from_steps(stages[:active]), active, prior)
    rest = len(stages) - active
    last = len(prior) - 1
    return Labels(
        stage=np.concatenate([lab.stage, np.full(rest, last, dtype=np.int64)]),
        tau=np.concatenate([lab.tau, np.ones(rest, dtype=np.float32)]),
        progress=np.concatenate([lab.progress, np.ones(rest, dtype=np.float32)]),
    )


def stage_of_progress(progress: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of y = P_{k-1} + ᾱ_k τ: (stage, τ) for each progress value."""
    prior = np.asarray(prior, dtype=np.float64)
    before = np.concatenate([[0.0], np.cumsum(prior)[:-1]])
    y = np.asarray(progress, dtype=np.float64)
    stage = np.clip(np.searchsorted(before, y, side="right") - 1, 0, len(prior) - 1)
    while True:  # a zero-length stage cannot hold progress: step back to the last non-empty one
        empty = (prior[stage] <= 0) & (stage > 0)
        if not empty.any():
            break
        stage = np.where(empty, stage - 1, stage)
    tau = np.clip((y - before[stage]) / np.maximum(prior[stage], 1e-12), 0.0, 1.0)
    return stage.astype(np.int64), tau.astype(np.float32)


def active_spans(stages: Sequence[int], done_at: int | None = None) -> tuple[list[Span], int]:
    """(spans, length) of the frames before ``done_at``: what the dataset prior is computed on."""
    active = len(stages) if done_at is None else max(1, min(done_at, len(stages)))
    return spans_from_steps(list(stages)[:active]), active
