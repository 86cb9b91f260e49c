"""Moved to :mod:`robrew.rewards.progress.text_encoders` (the reward models by model). Importing this name still
works: it warns once and gives that module itself."""

import sys
import warnings

from robrew.rewards.progress import text_encoders as _moved

warnings.warn(
    "robrew.rewards.text_encoders moved to robrew.rewards.progress.text_encoders (this name will go away)",
    FutureWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
