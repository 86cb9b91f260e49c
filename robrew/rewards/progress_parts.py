"""Moved to :mod:`robrew.rewards.progress.parts` (the reward models by model). Importing this name still
works: it warns once and gives that module itself."""

import sys
import warnings

from robrew.rewards.progress import parts as _moved

warnings.warn(
    "robrew.rewards.progress_parts moved to robrew.rewards.progress.parts (this name will go away)",
    FutureWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
