"""Subtask spans: the one span type of robrew (envs' experts produce them, labels read them).

A span is half-open, like a Python slice: subtask ``stage`` covers steps ``start <= t < end``.

Example:
    >>> [(s.stage, s.start, s.end) for s in spans_from_steps([0, 0, 1, 1, 1, 0])]
    [(0, 0, 2), (1, 2, 5), (0, 5, 6)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """Subtask ``stage`` (optionally ``name``d) on steps ``start <= t < end``."""

    stage: int
    start: int
    end: int
    name: str = ""

    def __len__(self) -> int:
        return self.end - self.start


def spans_from_steps(stages: Sequence[int], names: Sequence[str] | None = None) -> list[Span]:
    """Half-open spans from a per-step stage sequence (runs of equal values); ``names[stage]``
    names each span when given."""
    out: list[Span] = []
    for t, k in enumerate(stages):
        k = int(k)
        name = names[k] if names is not None else ""
        if out and out[-1].stage == k:
            out[-1] = Span(k, out[-1].start, t + 1, name)
        else:
            out.append(Span(k, t, t + 1, name))
    return out
