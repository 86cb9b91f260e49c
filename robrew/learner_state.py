"""Moved to :mod:`robrew.agents.learner_state` (the learner layer). Importing this name still works: it
warns once and gives that module itself."""

import sys
import warnings

from robrew.agents import learner_state as _moved

warnings.warn(
    "robrew.learner_state moved to robrew.agents.learner_state (this name will go away)",
    FutureWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
