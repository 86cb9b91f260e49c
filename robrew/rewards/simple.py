"""Small reward models: a trivial frame statistic (for wiring checks and overhead
benchmarks) and a trainable linear model on observations (the smallest learned reward)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from robrew.rewards.base import RewardModel


class FrameMeanReward(RewardModel):
    """Mean pixel value of each frame times ``scale``. Costs almost nothing, and the
    reward says exactly which frame was scored, which is what wrapper tests need.

    Example:
        >>> FrameMeanReward(scale=1.0).score(frames=np.full((2, 4, 4, 3), 7, np.uint8))
        array([7., 7.], dtype=float32)
    """

    name = "frame_mean"

    def __init__(self, scale: float = 1.0 / 255.0, device: str = "cpu", batch_size: int = 256):
        super().__init__(device=device, batch_size=batch_size)
        self.scale = float(scale)

    def config(self) -> dict:
        return {**super().config(), "scale": self.scale}

    def forward(self, frames: torch.Tensor | None, obs=None, instructions: Sequence[str] | None = None) -> torch.Tensor:
        return frames.float().mean(dim=(1, 2, 3)) * self.scale


class LinearObsReward(RewardModel):
    """A learned linear reward on observations: ``w · obs + b``.

    Example:
        >>> LinearObsReward(obs_dim=3).score(obs=np.ones((2, 3), np.float32)).shape
        (2,)
    """

    name = "linear_obs"
    needs_frames = False
    needs_obs = True
    is_trainable = True

    def __init__(self, obs_dim: int, device: str = "cpu", batch_size: int = 4096):
        super().__init__(device=device, batch_size=batch_size)
        self.obs_dim = int(obs_dim)
        self.linear = nn.Linear(self.obs_dim, 1).to(self.device)

    def config(self) -> dict:
        return {**super().config(), "obs_dim": self.obs_dim}

    def forward(self, frames=None, obs: torch.Tensor | None = None, instructions=None) -> torch.Tensor:
        if obs.shape[-1] != self.obs_dim:
            raise ValueError(f"linear_obs expects observations of size {self.obs_dim}, got {obs.shape[-1]}")
        return self.linear(obs).squeeze(-1)
