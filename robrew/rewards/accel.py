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

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from robrew.rewards.base import RewardModel
from robrew.rewards.batching import _search, find_batch_size

__all__ = [
    "ReplicatedReward",
    "_search",
    "find_batch_size",
    "image_flops",
    "matmul_peak",
    "split_sizes",
    "synchronize",
    "visible_devices",
]


def synchronize(device: torch.device) -> None:
    """Waits for the device's queued work (timing on a GPU needs it; a no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device: str | torch.device, dtype: torch.dtype = torch.float32, n: int = 4096, reps: int = 3) -> float:
    """FLOP/s of an n x n x n matmul on ``device``, best of ``reps`` (the hardware bound to compare against)."""
    import time

    device = torch.device(device)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    synchronize(device)
    best = 0.0
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(10):
            a @ b
        synchronize(device)
        best = max(best, 10 * 2 * n**3 / (time.perf_counter() - t))
    return best


def image_flops(model) -> int:
    """FLOPs of one frame through a :class:`~robrew.rewards.clip.ClipReward`'s image tower
    (preprocessing excluded), counted by torch's FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, 3, *model.preprocess.size, device=model.device)
    # In eval mode nn.MultiheadAttention takes a fused fast path the counter cannot see;
    # train mode (CLIP has no dropout) runs the same maths through countable ops.
    model.clip.train()
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad(), model.autocast():
            model.clip.encode_image(x)
    finally:
        model.clip.eval()
    return int(counter.get_total_flops())


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
            [model if torch.device(d) == model.device and i == 0 else model.copy_to(d) for i, d in enumerate(names)]
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
