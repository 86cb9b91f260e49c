"""Behaviour cloning on demonstrations: plain BC, reward-aligned BC (RA-BC), and
return-weighted trajectory resampling, on one policy network.

The three differ only in how samples count:
    none:   every (obs, action) pair equally;
    rabc:   weight from the progress model's gain over the next ``chunk`` steps
            (``robrew.training.rabc``; with ``drop_failure_tails``, 0 for a failed demo's steps
            from its progress peak on); loss Σ wℓ / Σ w;
    return: episodes resampled with probability ∝ exp((R - max R) / (temperature · std R)),
            R the episode's env return;
    success: the successful episodes only (filtered BC: weight 1 on every step of an episode
            flagged successful, 0 elsewhere), the baseline that needs no model at all.

Example:
    >>> policy, report = train_bc(demos, BCConfig(weighting="rabc"), progress_model=model)
    >>> report["mean_weight"]          # 0.3-0.8 is healthy; ≈ 1 means RA-BC became plain BC
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

import numpy as np
import torch

from robrew.agents.bc_policy import BCPolicy, ChunkActor, load_policy, save_policy  # noqa: F401  (re-exported)
from robrew.data.demos import Demo, flat_demos, require_frames
from robrew.rewards.obs_stats import obs_statistics
from robrew.rewards.progress import ProgressReward
from robrew.training.rabc import failure_tails, progress_deltas, rabc_weights, weighted_loss

#: How BC weights each sample: ``none`` (plain BC), ``rabc`` (reward-aligned: progress gain over
#: the chunk), ``return`` (resampled by episode return), ``success`` (successful episodes only).
#: Functional form: ``return`` is a keyword.
Weighting = StrEnum(
    "Weighting", {"none": "none", "rabc": "rabc", "return": "return", "success": "success"}, module=__name__
)


WEIGHTINGS = tuple(w.value for w in Weighting)


@dataclass
class BCConfig:
    """Behaviour-cloning settings."""

    weighting: Weighting = Weighting.none
    steps: int = 4000
    batch_size: int = 256
    lr: float = 1e-3
    hidden: int = 256
    chunk: int = 5  # Δ: the policy predicts this many actions; progress gain is measured over it
    kappa: float = 0.01  # gains above κ get full weight
    complete_at: float | None = 0.95  # RA-BC: samples the progress model calls complete (φ ≥ this) get full weight
    drop_failure_tails: bool = False  # RA-BC: a failed demo's steps from its progress peak on get weight 0
    ensemble_decay: float = 0.3  # temporal ensembling: weight exp(-decay * age) of older chunk predictions
    temperature: float = 1.0  # return-weighted resampling
    obs_keys: list[str] | None = None  # Dict observations: keys the policy reads, in order (default: all, sorted)
    drop_noops: bool = False  # leave out the demos' no-op steps (pauses): see :func:`noop_steps`
    seed: int = 0
    device: str = "cpu"


def noop_steps(actions: np.ndarray) -> np.ndarray:
    """(T,) bool: the steps of one episode that do nothing, OpenVLA's rule for robot datasets: every
    action dimension but the last (the gripper) is zero and the gripper command is the previous
    step's. A demonstrator's hesitations are such steps; cloned, they become the states where a
    policy stops dead and stays (a deterministic policy has no reason to leave a state in which
    the demos paused), and RA-BC does not weight them out: a pause makes no progress but neither
    loses any, so it keeps a middling weight."""
    a = np.asarray(actions)
    still = np.all(np.abs(a[:, :-1]) < 1e-6, axis=1)
    same_grip = np.r_[False, np.abs(np.diff(a[:, -1])) < 1e-6]
    return still & same_grip


def without_noops(demos: list[Demo], weights: np.ndarray) -> tuple[list[Demo], np.ndarray]:
    """The demos with their no-op steps left out, and the weights of the steps kept. Step t's
    observation goes with it (a pause leaves the scene as it was, so the observations before and
    after one agree); per-frame arrays and frame indices follow."""
    from dataclasses import replace

    out, kept, start = [], [], 0
    for d in demos:
        n = len(d.actions)
        keep = ~noop_steps(d.actions)
        frames = np.r_[np.flatnonzero(keep), n]  # the frames kept, the last one always

        def moved(i, frames=frames):
            return None if i is None else int(np.searchsorted(frames, i))

        start += n
        if not keep.any():  # an episode of pauses teaches nothing
            continue
        out.append(
            replace(
                d,
                observations=d.observations[frames],
                actions=d.actions[keep],
                rewards=d.rewards[keep],
                frames=d.frames[frames] if d.frames is not None else None,
                subtask=d.subtask[frames],
                stage=d.stage[frames],
                done_at=moved(d.done_at),
                off_task_from=moved(d.off_task_from),
            )
        )
        kept.append(weights[start - n : start][keep])
    return out, np.concatenate(kept)


def action_chunks(demos: list[Demo], chunk: int) -> np.ndarray:
    """(N, chunk, A) targets: actions t .. t + chunk - 1, the last action repeated past the end."""
    out = []
    for d in demos:
        T = len(d.actions)
        idx = np.minimum(np.arange(T)[:, None] + np.arange(chunk)[None], T - 1)
        out.append(d.actions[idx])
    return np.concatenate(out)


def sample_weights(demos: list[Demo], cfg: BCConfig, progress_model: ProgressReward | None = None) -> np.ndarray:
    """One weight per (obs, action) pair, in dataset order (episode by episode)."""
    if cfg.weighting == Weighting.none:
        return np.ones(sum(len(d.actions) for d in demos))
    if cfg.weighting == Weighting.rabc:
        if progress_model is None:
            raise ValueError("RA-BC needs a progress model")
        if progress_model.needs_frames:
            require_frames(demos, "RA-BC's frame-based progress model")
        phi = []
        for d in demos:
            p = progress_model.score_episode(
                frames=d.frames if progress_model.needs_frames else None,
                obs=progress_model.flatten_obs(d.observations) if progress_model.needs_obs else None,
                instructions=d.instruction,
            )
            phi.append(p)
        # Delta for action t (taken at frame t): progress at frame min(t + Δ, T) minus at t.
        deltas = np.concatenate([r[:-1] for r in progress_deltas(phi, cfg.chunk)])
        at = np.concatenate([p[:-1] for p in phi])
        w = rabc_weights(deltas, cfg.kappa, progress=at, complete_at=cfg.complete_at)
        if cfg.drop_failure_tails:
            w = np.where(np.concatenate(failure_tails(phi, [d.success for d in demos])), 0.0, w)
        return w
    if cfg.weighting == Weighting("return"):
        returns = np.array([float(d.rewards.sum()) for d in demos])
        z = (returns - returns.max()) / (cfg.temperature * (returns.std() + 1e-8))
        p = np.exp(z)
        p /= p.sum()
        return np.concatenate([np.full(len(d.actions), pi * len(demos)) for d, pi in zip(demos, p)])
    if cfg.weighting == Weighting.success:
        if not any(d.success for d in demos):
            raise ValueError("weighting=success keeps the successful demos, and none of these succeeded")
        return np.concatenate([np.full(len(d.actions), float(d.success)) for d in demos])
    raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {cfg.weighting!r}")


def train_bc(demos: list[Demo], cfg: BCConfig, progress_model: ProgressReward | None = None) -> tuple[BCPolicy, dict]:
    """Trains a policy; returns it and a report (losses, mean weight, config)."""
    if cfg.weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {cfg.weighting!r}")
    torch.manual_seed(cfg.seed)
    weights = sample_weights(demos, cfg, progress_model)  # the progress model reads observations its own way
    demos, obs_keys = flat_demos(demos, cfg.obs_keys)
    if cfg.drop_noops:
        demos, weights = without_noops(demos, weights)
    obs = np.concatenate([d.observations[:-1] for d in demos])
    actions = action_chunks(demos, cfg.chunk)
    policy = BCPolicy(obs.shape[1], actions.shape[2], cfg.hidden, cfg.chunk, obs_keys).to(cfg.device)
    mean, std = obs_statistics(obs)
    policy.obs_mean.copy_(torch.from_numpy(mean))
    policy.obs_std.copy_(torch.from_numpy(std))
    obs_t = torch.from_numpy(obs).to(cfg.device)
    act_t = torch.from_numpy(np.clip(actions, -1, 1)).to(cfg.device)
    w_t = torch.from_numpy(weights.astype(np.float32)).to(cfg.device)
    opt = torch.optim.AdamW(policy.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps)
    rng = np.random.default_rng(cfg.seed)
    losses = []
    for _ in range(cfg.steps):
        idx = torch.from_numpy(rng.integers(0, len(obs), size=min(cfg.batch_size, len(obs)))).to(cfg.device)
        per_sample = ((policy(obs_t[idx]) - act_t[idx]) ** 2).mean(dim=(1, 2))
        loss = weighted_loss(per_sample, w_t[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
    policy.eval()
    report = {"config": asdict(cfg), "losses": losses, "mean_weight": float(weights.mean()), "samples": len(obs)}
    return policy, report
