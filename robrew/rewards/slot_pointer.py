"""Moved to :mod:`robrew.rewards.progress.slot_pointer` (the reward models by model). Importing this name still
works: it warns once and gives that module itself."""

import sys
import warnings

from robrew.rewards.progress import slot_pointer as _moved

warnings.warn(
    "robrew.rewards.slot_pointer moved to robrew.rewards.progress.slot_pointer (this name will go away)",
    FutureWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
