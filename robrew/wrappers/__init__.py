"""Put any reward model into any Gymnasium env, SB3 VecEnv or Gymnasium vector env.

Example:
    >>> from robrew.wrappers import RewardModelWrapper, make_scored_vec_env, RewardComposition
"""

from robrew.wrappers.compose import RewardComposition
from robrew.wrappers.frames import FrameInInfo
from robrew.wrappers.single import RewardModelWrapper

__all__ = [
    "FrameInInfo",
    "RewardComposition",
    "RewardLoggingCallback",
    "RewardModelWrapper",
    "VecRewardModelWrapper",
    "VectorRewardModelWrapper",
    "make_scored_vec_env",
]


def __getattr__(name: str):
    # SB3 and the vector wrapper load on first use.
    if name in ("VecRewardModelWrapper", "RewardLoggingCallback", "make_scored_vec_env"):
        from robrew.wrappers import sb3

        return getattr(sb3, name)
    if name == "VectorRewardModelWrapper":
        from robrew.wrappers.vector import VectorRewardModelWrapper

        return VectorRewardModelWrapper
    raise AttributeError(f"module 'robrew.wrappers' has no attribute {name!r}")
