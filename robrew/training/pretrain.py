"""Start SAC from the demonstrations: the actor pretrained by (reward-aligned) behaviour cloning,
then held still while the critic warms up on its own rollouts (the early collapse of a
BC-initialised actor under an untrained critic is the known failure; DPPO, PA-RL).

- :func:`pretrain_actor`: weighted maximum likelihood of the demo actions under SAC's squashed
  Gaussian actor; weights 1 (``bc``) or RA-BC's progress-gain weights (``rabc``,
  :func:`robrew.training.bc.sample_weights`).
- :class:`ActorWarmup`: an SB3 callback that freezes the actor's parameters until ``warmup``
  env steps after learning starts; the critic (and the entropy coefficient) learn meanwhile.

Example:
    >>> report = pretrain_actor(sac, demos, weights, steps=2000)
    >>> sac.learn(50_000, callback=ActorWarmup(5_000))
"""

from __future__ import annotations

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback

from robrew.data.demos import Demo


def pretrain_actor(
    model,
    demos: list[Demo],
    weights: np.ndarray | None = None,
    steps: int = 2000,
    batch_size: int = 256,
    seed: int = 0,
) -> dict:
    """Fits ``model.actor`` (SB3 SAC) to the demos' actions; returns ``{"losses", "mean_weight"}``.

    Args:
        model: An SB3 SAC model (its actor optimiser is used, so Adam's state carries on into RL).
        demos: Demonstrations of this env (observations T + 1, actions T).
        weights: One weight per (observation, action), in dataset order (default: all 1).
        steps: Gradient steps.
        batch_size: Pairs per step.
        seed: Seeds the batch sampling.
    """
    obs = np.concatenate([d.observations[:-1] for d in demos]).astype(np.float32)
    acts = np.clip(np.concatenate([d.actions for d in demos]).astype(np.float32), -1.0 + 1e-4, 1.0 - 1e-4)
    w = np.ones(len(acts), np.float32) if weights is None else np.asarray(weights, np.float32)
    if len(w) != len(acts):
        raise ValueError(f"got {len(w)} weights for {len(acts)} demo actions")
    norm = getattr(model, "_vec_normalize_env", None)
    if norm is not None:
        obs = norm.normalize_obs(obs)
    device = model.device
    obs_t, acts_t, w_t = (torch.as_tensor(x, device=device) for x in (obs, acts, w))
    rng = np.random.default_rng(seed)
    actor = model.actor
    losses = []
    actor.set_training_mode(True)
    for _ in range(int(steps)):
        idx = torch.as_tensor(rng.integers(0, len(acts), size=batch_size), device=device)
        mean, log_std, kwargs = actor.get_action_dist_params(obs_t[idx])
        dist = actor.action_dist.proba_distribution(mean, log_std, **kwargs)
        log_prob = dist.log_prob(acts_t[idx])
        loss = -(w_t[idx] * log_prob).sum() / w_t[idx].sum().clamp_min(1e-8)
        actor.optimizer.zero_grad()
        loss.backward()
        actor.optimizer.step()
        losses.append(float(loss.detach()))
    actor.set_training_mode(False)
    return {"losses": losses, "mean_weight": float(w.mean())}


class ActorWarmup(BaseCallback):
    """Freezes the actor until ``warmup`` env steps after ``learning_starts``: the critic learns
    the pretrained policy's values before the actor moves."""

    def __init__(self, warmup: int):
        super().__init__()
        self.warmup = int(warmup)
        self.frozen = False

    def _set(self, frozen: bool) -> None:
        self.model.actor.requires_grad_(not frozen)
        self.frozen = frozen

    def _on_training_start(self) -> None:
        if self.warmup > 0 and self.model.num_timesteps < self.model.learning_starts + self.warmup:
            self._set(True)

    def _on_step(self) -> bool:
        if self.frozen and self.model.num_timesteps >= self.model.learning_starts + self.warmup:
            self._set(False)
        return True

    def _on_training_end(self) -> None:
        if self.frozen:
            self._set(False)
