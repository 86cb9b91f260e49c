"""Reward scoring near the hardware limit: automatic batch size, and one model replicated
over several devices with each batch split between them.

Replication is plain Python: one deep copy of the model per device, a thread per device
(CUDA kernels release the GIL, so the devices run concurrently), results concatenated in
order. No process groups, no NCCL, nothing to keep in sync: reward models are frozen.

Example:
    >>> model = make_reward("clip", goal_prompts=["a humanoid robot kneeling"], device="cuda:0")
    >>> model.batch_size = find_batch_size(model, frame_shape=(224, 224, 3))
    >>> fast = ReplicatedReward(model, devices="auto")        # every visible GPU
    >>> fast.score(frames=frames)                              # float32[B], same as model.score
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from robrew.rewards.base import RewardModel


def visible_devices() -> list[str]:
    """Every visible CUDA device (``["cuda:0", ...]``), else ``["cpu"]``."""
    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return [f"cuda:{i}" for i in range(n)] or ["cpu"]


def split_sizes(n: int, parts: int, weights: Sequence[float] | None = None) -> list[int]:
    """Sizes of ``parts`` contiguous chunks of ``n`` items, proportional to ``weights``
    (equal by default); they sum to ``n`` and differ from the exact share by less than 1."""
    if parts <= 0:
        raise ValueError(f"parts must be positive, got {parts}")
    w = np.ones(parts) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(w) != parts or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"weights must be {parts} non-negative numbers with a positive sum, got {weights}")
    exact = n * w / w.sum()
    sizes = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - sizes), kind="stable")[: n - sizes.sum()]:  # largest remainders
        sizes[i] += 1
    return sizes.tolist()


def _is_oom(e: BaseException) -> bool:
    return isinstance(e, torch.OutOfMemoryError) or "out of memory" in str(e).lower()


def find_batch_size(
    model: RewardModel,
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


class ReplicatedReward(RewardModel):
    """A reward model copied onto several devices; :meth:`score` splits each batch between them.

    Args:
        model: Any reward model (its weights are copied, not shared).
        devices: Device names, or ``"auto"`` for :func:`visible_devices`.
        weights: Relative speed of each device (the share of the batch it gets); equal by default.
    """

    name = "replicated"

    def __init__(
        self, model: RewardModel, devices: Sequence[str] | str = "auto", weights: Sequence[float] | None = None
    ):
        names = visible_devices() if devices == "auto" else list(devices)
        if not names:
            raise ValueError("devices must name at least one device")
        super().__init__(device=names[0], batch_size=model.batch_size)
        self.needs_frames, self.needs_obs = model.needs_frames, model.needs_obs
        self.device_names = names
        split_sizes(0, len(names), weights)  # fails now, not at the first score, on bad weights
        self._weights = weights
        self.replicas = torch.nn.ModuleList(
            [model if torch.device(d) == model.device and i == 0 else _copy_to(model, d) for i, d in enumerate(names)]
        )
        self._pool = ThreadPoolExecutor(max_workers=len(names)) if len(names) > 1 else None

    def config(self) -> dict:
        return {"devices": self.device_names, "member": self.replicas[0].name}

    def forward(self, frames=None, obs=None, instructions=None) -> torch.Tensor:
        """Scores on the first replica (``score`` is where the batch gets split)."""
        return self.replicas[0](frames, obs, instructions)

    @torch.no_grad()
    def score(self, frames=None, obs=None, instructions=None) -> np.ndarray:
        """Same contract as :meth:`RewardModel.score`; each device scores a contiguous part."""
        n = len(frames) if frames is not None else len(obs)
        if isinstance(instructions, str):
            instructions = [instructions] * n
        sizes = split_sizes(n, len(self.replicas), self._weights)
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        jobs = []
        for replica, lo, hi in zip(self.replicas, bounds[:-1], bounds[1:]):
            if hi == lo:
                continue
            part = {
                "frames": frames[lo:hi] if frames is not None else None,
                "obs": obs[lo:hi] if obs is not None else None,
                "instructions": instructions[lo:hi] if instructions is not None else None,
            }
            jobs.append((replica, part))
        if self._pool is None or len(jobs) == 1:
            parts = [r.score(**p) for r, p in jobs]
        else:
            parts = list(self._pool.map(lambda job: job[0].score(**job[1]), jobs))
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.float32)


def _copy_to(model: RewardModel, device: str) -> RewardModel:
    compiled = getattr(model, "_compiled_image_tower", None)
    if compiled is not None:  # compiled graphs are per device: the copy compiles its own
        model._compiled_image_tower = None
    try:
        clone = copy.deepcopy(model).to(device)
    finally:
        if compiled is not None:
            model._compiled_image_tower = compiled
    clone.device = torch.device(device)
    for attr in ("_text_cache", "_instruction_cache"):  # caches hold tensors on the old device
        if isinstance(getattr(clone, attr, None), dict):
            setattr(clone, attr, {})
    return clone
