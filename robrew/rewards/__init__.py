"""Reward models: one interface (:class:`RewardModel`), one registry, safetensors save/load.

Example:
    >>> from robrew.rewards import make_reward
    >>> clip = make_reward("clip", goal_prompts=["a humanoid robot kneeling"],
    ...                    baseline_prompts=["a humanoid robot"], alpha=0.5, pretrained="/models/vit-b-32")
"""

from robrew.rewards.base import RewardModel, RewardModelError
from robrew.rewards.registry import (
    REWARD_MODELS,
    list_rewards,
    load_reward_model,
    make_reward,
    reward_class,
    save_reward_model,
)

__all__ = [
    "REWARD_MODELS",
    "RewardModel",
    "RewardModelError",
    "list_rewards",
    "load_reward_model",
    "make_reward",
    "reward_class",
    "save_reward_model",
]
