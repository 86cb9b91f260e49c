"""Moved to :mod:`robrew.rewards.clip.preprocess` (the reward models by model). Importing this name still
works: it warns once and gives that module itself."""

import sys
import warnings

from robrew.rewards.clip import preprocess as _moved

warnings.warn(
    "robrew.rewards.preprocess moved to robrew.rewards.clip.preprocess (this name will go away)",
    FutureWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
