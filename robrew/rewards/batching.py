"""The largest batch a reward model can score at once on its device (a doubling search that
stops at the first out-of-memory). Knows reward models only by their interface
(``device``, ``batch_size``, ``needs_frames``, ``needs_obs``, a forward call), so the base
class can use it without an import cycle.

Example:
    >>> model.batch_size = find_batch_size(model, frame_shape=(224, 224, 3))
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def _is_oom(e: BaseException) -> bool:
    return isinstance(e, torch.OutOfMemoryError) or "out of memory" in str(e).lower()


def find_batch_size(
    model,
    frame_shape: tuple[int, int, int] | None = None,
    obs_dim: int | None = None,
    start: int = 16,
    limit: int = 4096,
    margin: float = 0.8,
) -> int:
    """Largest power-of-two batch (times ``margin``) that runs without running out of memory.

    Doubles from ``start`` until a forward pass raises out-of-memory or ``limit`` is
    reached. On CPU there is no device memory to fill: returns ``model.batch_size``.
    """
    if model.device.type == "cpu":
        return model.batch_size

    def probe(b: int) -> None:
        frames = torch.zeros((b, *frame_shape), dtype=torch.uint8, device=model.device) if model.needs_frames else None
        obs = torch.zeros((b, obs_dim), device=model.device) if model.needs_obs else None
        with torch.no_grad():
            model(frames, obs, None)
        torch.cuda.synchronize(model.device)

    return _search(probe, start, limit, margin, cleanup=torch.cuda.empty_cache)


def _search(
    probe: Callable[[int], None], start: int, limit: int, margin: float, cleanup: Callable[[], None] = lambda: None
) -> int:
    """Doubling search over ``probe(batch)``; the largest size that fit, times ``margin``."""
    best, b = 0, start
    while b <= limit:
        try:
            probe(b)
        except (torch.OutOfMemoryError, RuntimeError) as e:
            if not _is_oom(e):
                raise
            cleanup()
            break
        best, b = b, b * 2
    if best == 0:
        raise RuntimeError(f"even a batch of {start} does not fit in device memory")
    return max(1, int(best * margin)) if best < limit else best
