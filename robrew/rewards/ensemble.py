"""Combining reward models: ensembles against over-optimisation, and running normalisation.

Example:
    >>> ens = EnsembleReward([{"name": "clip", "goal_prompts": ["a kneeling robot"]},
    ...                       {"name": "clip", "goal_prompts": ["a robot on its knees"]}], mode="min")
    >>> norm = NormalizedReward({"name": "frame_mean"})
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from robrew.rewards.base import RewardModel

ENSEMBLE_MODES = ("mean", "min", "uncertainty", "pessimistic")
MemberSpec = RewardModel | dict


def _build(spec: MemberSpec, device) -> RewardModel:
    if isinstance(spec, RewardModel):
        return spec
    from robrew.rewards.registry import make_reward

    spec = dict(spec)
    if "name" not in spec:
        raise ValueError(f"a member spec needs a 'name' (a registered reward model), got {spec}")
    spec.setdefault("device", str(device))
    return make_reward(spec.pop("name"), **spec)


class EnsembleReward(RewardModel):
    """Combines several reward models on the same inputs.

    Args:
        members: Reward models, or ``{"name": ..., **kwargs}`` specs of registered ones.
        mode: ``"mean"``; ``"min"`` (worst case); ``"uncertainty"`` (mean - lam * variance);
            ``"pessimistic"`` (mean - lam * standard deviation: a disagreement penalty, for members
            trained on bootstrapped data, which agree on the data and disagree off it).
        lam: Penalty weight of the ``uncertainty`` and ``pessimistic`` modes.
        device: Device for members built from specs.
    """

    name = "ensemble"
    needs_frames = False  # per instance, below
    needs_obs = False

    def __init__(
        self,
        members: Sequence[MemberSpec],
        mode: str = "mean",
        lam: float = 1.0,
        device: str = "cpu",
        batch_size: int = 64,
    ):
        super().__init__(device=device, batch_size=batch_size)
        if mode not in ENSEMBLE_MODES:
            raise ValueError(f"ensemble mode must be one of {ENSEMBLE_MODES}, got {mode!r}")
        if len(members) < 1:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList([_build(m, self.device) for m in members])
        self._specs = [m if isinstance(m, dict) else {"name": m.name, **m.config()} for m in members]
        self.mode, self.lam = mode, float(lam)
        self.needs_frames = any(m.needs_frames for m in self.members)
        self.needs_obs = any(m.needs_obs for m in self.members)
        self.is_trainable = any(m.is_trainable for m in self.members)
        windows = {int(getattr(m, "window", 1)) for m in self.members}
        if len(windows) > 1:
            raise ValueError(f"ensemble members must see the same frame window, got windows {sorted(windows)}")
        self.window = windows.pop()
        keys = {m.obs_keys for m in self.members if m.needs_obs}
        if len(keys) > 1:
            raise ValueError(f"ensemble members must read the same obs_keys, got {sorted(map(str, keys))}")
        self.obs_keys = keys.pop() if keys else None

    def config(self) -> dict:
        return {**super().config(), "members": self._specs, "mode": self.mode, "lam": self.lam}

    def member_scores(self, frames, obs, instructions) -> torch.Tensor:
        """(M, B) scores of every member."""
        return torch.stack([m.forward(frames, obs, instructions).float().to(self.device) for m in self.members])

    def combine(self, scores: torch.Tensor) -> torch.Tensor:
        """(M, B) member scores -> (B,) ensemble score under :attr:`mode`."""
        if self.mode == "mean":
            return scores.mean(dim=0)
        if self.mode == "min":
            return scores.min(dim=0).values
        if self.mode == "pessimistic":
            return scores.mean(dim=0) - self.lam * scores.std(dim=0, unbiased=False)
        return scores.mean(dim=0) - self.lam * scores.var(dim=0, unbiased=False)

    def forward(self, frames, obs=None, instructions=None) -> torch.Tensor:
        return self.combine(self.member_scores(frames, obs, instructions))

    def score_episode(self, frames=None, obs=None, instructions=None):
        """One episode in time order; members with a frame window get their causal windows."""
        if self.window > 1:
            frames, obs = self.members[0].episode_inputs(
                frames if self.needs_frames else None, obs if self.needs_obs else None
            )
        return self.score(frames=frames, obs=obs, instructions=instructions)

    def disagreement(self, frames=None, obs=None, instructions=None) -> np.ndarray:
        """float32 [B]: the members' standard deviation on each input (how far off their data it is)."""
        obs = self.flatten_obs(obs) if obs is not None else None
        scores = np.stack([m.score(frames, obs, instructions) for m in self.members])
        return scores.std(axis=0).astype(np.float32)


class NormalizedReward(RewardModel):
    """Scales another model's reward by running mean and standard deviation.

    Statistics update on every call while ``update`` is true (set it false for
    evaluation); they are buffers, so they are saved with the model.

    Args:
        model: The reward model, or a ``{"name": ..., **kwargs}`` spec.
        update: Update the statistics on each batch.
        clip: Clip normalised rewards to [-clip, clip]; ``None`` for no clipping.
        epsilon: Added to the variance.
    """

    name = "normalized"

    def __init__(
        self,
        model: MemberSpec,
        update: bool = True,
        clip: float | None = 10.0,
        epsilon: float = 1e-8,
        device: str = "cpu",
        batch_size: int = 64,
    ):
        super().__init__(device=device, batch_size=batch_size)
        self.inner = _build(model, self.device)
        self._spec = model if isinstance(model, dict) else {"name": self.inner.name, **self.inner.config()}
        self.needs_frames, self.needs_obs = self.inner.needs_frames, self.inner.needs_obs
        self.is_trainable = True  # the running statistics are state to save
        self.update, self.clip, self.epsilon = update, clip, float(epsilon)
        self.register_buffer("mean", torch.zeros((), dtype=torch.float64, device=self.device))
        self.register_buffer("var", torch.ones((), dtype=torch.float64, device=self.device))
        self.register_buffer("count", torch.tensor(epsilon, dtype=torch.float64, device=self.device))

    def config(self) -> dict:
        return {
            **super().config(),
            "model": self._spec,
            "update": self.update,
            "clip": self.clip,
            "epsilon": self.epsilon,
        }

    def _update(self, r: torch.Tensor) -> None:
        # Parallel (Chan et al.) update, as in SB3's RunningMeanStd.
        r = r.double()
        b_mean, b_var, b_count = r.mean(), r.var(unbiased=False), r.numel()
        delta = b_mean - self.mean
        total = self.count + b_count
        self.mean += delta * b_count / total
        m2 = self.var * self.count + b_var * b_count + delta**2 * self.count * b_count / total
        self.var.copy_(m2 / total)
        self.count.copy_(total)

    def forward(self, frames, obs=None, instructions=None) -> torch.Tensor:
        r = self.inner.forward(frames, obs, instructions).float()
        if self.update:
            self._update(r)
        out = (r - self.mean.float()) / torch.sqrt(self.var.float() + self.epsilon)
        return out.clamp(-self.clip, self.clip) if self.clip is not None else out
