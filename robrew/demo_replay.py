"""Moved to :mod:`robrew.agents.demo_replay` (the learner layer). Importing this name still works: it
warns once and gives that module itself."""

import sys
import warnings

from robrew.agents import demo_replay as _moved

warnings.warn(
    "robrew.demo_replay moved to robrew.agents.demo_replay (this name will go away)",
    FutureWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
