"""Moved to :mod:`robrew.rewards.progress.windows` (the reward models by model). Importing this name still
works: it warns once and gives that module itself."""

import sys
import warnings

from robrew.rewards.progress import windows as _moved

warnings.warn(
    "robrew.rewards.windows moved to robrew.rewards.progress.windows (this name will go away)",
    FutureWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
