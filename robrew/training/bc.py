"""Behaviour cloning on demonstrations: plain BC, reward-aligned BC (RA-BC), and
return-weighted trajectory resampling, on one policy network.

The three differ only in how samples count:
    none:   every (obs, action) pair equally;
    rabc:   weight from the progress model's gain over the next ``chunk`` steps
            (``robrew.training.rabc``); loss Σ wℓ / Σ w;
    return: episodes resampled with probability ∝ exp((R - max R) / (temperature · std R)),
            R the episode's env return.

Example:
    >>> policy, report = train_bc(demos, BCConfig(weighting="rabc"), progress_model=model)
    >>> report["mean_weight"]          # 0.3-0.8 is healthy; ≈ 1 means RA-BC became plain BC
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from robrew.data.demos import Demo
from robrew.rewards.progress import ProgressReward
from robrew.training.rabc import progress_deltas, rabc_weights, weighted_loss

WEIGHTINGS = ("none", "rabc", "return")


@dataclass
class BCConfig:
    """Behaviour-cloning settings."""

    weighting: str = "none"
    steps: int = 4000
    batch_size: int = 256
    lr: float = 1e-3
    hidden: int = 256
    chunk: int = 5  # Δ: progress gain is measured over this many steps
    kappa: float = 0.01  # gains above κ get full weight
    temperature: float = 1.0  # return-weighted resampling
    seed: int = 0
    device: str = "cpu"


class BCPolicy(nn.Module):
    """MLP policy: normalised observation -> action in [-1, 1]."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: int = 256):
        super().__init__()
        self.register_buffer("obs_mean", torch.zeros(obs_dim))
        self.register_buffer("obs_std", torch.ones(obs_dim))
        self.net = nn.Sequential(
            nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, act_dim), nn.Tanh()
        )

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net((obs - self.obs_mean) / self.obs_std)

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic action for one observation (numpy in, numpy out)."""
        x = torch.as_tensor(np.asarray(obs, np.float32), device=self.obs_mean.device)
        return self.forward(x[None])[0].cpu().numpy()


def sample_weights(demos: list[Demo], cfg: BCConfig, progress_model: ProgressReward | None = None) -> np.ndarray:
    """One weight per (obs, action) pair, in dataset order (episode by episode)."""
    if cfg.weighting == "none":
        return np.ones(sum(len(d.actions) for d in demos))
    if cfg.weighting == "rabc":
        if progress_model is None:
            raise ValueError("RA-BC needs a progress model")
        phi = []
        for d in demos:
            p = progress_model.score(
                frames=d.frames if progress_model.needs_frames else None,
                obs=d.observations if progress_model.needs_obs else None,
                instructions=d.instruction,
            )
            phi.append(p)
        # Delta for action t (taken at frame t): progress at frame min(t + Δ, T) minus at t.
        deltas = np.concatenate([r[:-1] for r in progress_deltas(phi, cfg.chunk)])
        return rabc_weights(deltas, cfg.kappa)
    if cfg.weighting == "return":
        returns = np.array([float(d.rewards.sum()) for d in demos])
        z = (returns - returns.max()) / (cfg.temperature * (returns.std() + 1e-8))
        p = np.exp(z)
        p /= p.sum()
        return np.concatenate([np.full(len(d.actions), pi * len(demos)) for d, pi in zip(demos, p)])
    raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {cfg.weighting!r}")


def train_bc(demos: list[Demo], cfg: BCConfig, progress_model: ProgressReward | None = None) -> tuple[BCPolicy, dict]:
    """Trains a policy; returns it and a report (losses, mean weight, config)."""
    if cfg.weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {cfg.weighting!r}")
    torch.manual_seed(cfg.seed)
    obs = np.concatenate([d.observations[:-1] for d in demos])
    actions = np.concatenate([d.actions for d in demos])
    weights = sample_weights(demos, cfg, progress_model)
    policy = BCPolicy(obs.shape[1], actions.shape[1], cfg.hidden).to(cfg.device)
    policy.obs_mean.copy_(torch.from_numpy(obs.mean(0)))
    policy.obs_std.copy_(torch.from_numpy(np.maximum(obs.std(0), 1e-6)))
    obs_t = torch.from_numpy(obs).to(cfg.device)
    act_t = torch.from_numpy(np.clip(actions, -1, 1)).to(cfg.device)
    w_t = torch.from_numpy(weights.astype(np.float32)).to(cfg.device)
    opt = torch.optim.Adam(policy.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed)
    losses = []
    for _ in range(cfg.steps):
        idx = torch.from_numpy(rng.integers(0, len(obs), size=min(cfg.batch_size, len(obs)))).to(cfg.device)
        per_sample = ((policy(obs_t[idx]) - act_t[idx]) ** 2).mean(dim=1)
        loss = weighted_loss(per_sample, w_t[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    policy.eval()
    report = {"config": asdict(cfg), "losses": losses, "mean_weight": float(weights.mean()), "samples": len(obs)}
    return policy, report
