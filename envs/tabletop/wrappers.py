"""Action wrappers for the tabletop envs.

Example:
    >>> env = HoldClosed(gym.make("robrew/TabletopPush-v0"))   # a blocked-gripper push task
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

GRIP_INDEX = 3  # the grip command in the (4,) action: -1 open ... +1 closed


class HoldClosed(gym.ActionWrapper):
    """Ignores the policy's grip command and keeps the fingers closed (pushing needs closed
    fingers: open ones straddle the block)."""

    def action(self, action):
        action = np.array(action, dtype=np.float32)
        action[..., GRIP_INDEX] = 1.0
        return action
