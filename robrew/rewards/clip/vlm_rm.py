"""The VLM-RM reward on embeddings, and prompt-set embedding averaging (pure torch).

R(x) = 1 - ½‖(αP + (1-α)I)(x - g)‖², with x the L2-normalised image embedding, g and b
the goal and baseline embeddings, d = g - b and P = d dᵀ/‖d‖² the projection onto d.
α = 0 is 1 - ½‖x - g‖² = x·g (for unit x, g): cosine similarity. α = 1 keeps only the
component of x - g along the goal-baseline direction.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def prompt_set_embedding(embeddings: torch.Tensor) -> torch.Tensor:
    """One embedding for a set of prompts: L2-normalise each, average, renormalise.

    Args:
        embeddings: (P, D) text embeddings of the prompts.

    Returns:
        (D,) unit vector.
    """
    return F.normalize(F.normalize(embeddings.float(), dim=-1).mean(dim=0), dim=-1)


def vlm_rm_reward(x: torch.Tensor, goal: torch.Tensor, baseline: torch.Tensor, alpha: float) -> torch.Tensor:
    """The goal-baseline projection reward.

    Args:
        x: (B, D) L2-normalised image embeddings.
        goal: (D,) or (B, D) goal embeddings.
        baseline: (D,) baseline embedding.
        alpha: Projection strength in [0, 1].

    Returns:
        (B,) float32 rewards.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    x, goal, baseline = x.float(), goal.float(), baseline.float()
    v = x - goal
    d = goal - baseline
    d_hat = d / d.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    along = (v * d_hat).sum(dim=-1, keepdim=True) * d_hat
    m_v = alpha * along + (1.0 - alpha) * v
    return 1.0 - 0.5 * (m_v * m_v).sum(dim=-1)
