"""How many CPU threads torch uses in an app that trains.

``torch_threads`` in every training app means: ``0`` (the default) the cores this process may run
on (its CPU affinity, e.g. a container's or SLURM's allotment), ``N`` at most that many, never more
than those cores (more threads than cores makes small-model training many times slower when
anything else runs beside it).

Example:
    >>> set_torch_threads(0)    # -> the usable cores, e.g. 2
    >>> set_torch_threads(1)    # one thread: fastest for small MLPs when runs share a CPU
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def thread_count(requested: int) -> int:
    """The threads ``torch_threads=requested`` means here: ``0`` the usable cores, ``N`` min(N,
    usable cores). Raises ``ValueError`` (one line) for a negative request."""
    if requested < 0:
        raise ValueError(f"torch_threads must be >= 0 (0: the usable cores), got {requested}")
    return usable_cores() if requested == 0 else min(int(requested), usable_cores())


def set_torch_threads(requested: int) -> int:
    """Sets torch's intra-op threads to :func:`thread_count` ``(requested)`` and returns that number.
    Raises ``ValueError`` for a negative request."""
    n = thread_count(requested)
    import torch

    torch.set_num_threads(n)
    return n
