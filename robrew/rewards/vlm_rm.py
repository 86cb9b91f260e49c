"""Moved to :mod:`robrew.rewards.clip.vlm_rm` (the reward models by model). Importing this name still
works: it warns once and gives that module itself."""

import sys
import warnings

from robrew.rewards.clip import vlm_rm as _moved

warnings.warn(
    "robrew.rewards.vlm_rm moved to robrew.rewards.clip.vlm_rm (this name will go away)",
    FutureWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
