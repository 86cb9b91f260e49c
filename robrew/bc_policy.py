"""Moved to :mod:`robrew.agents.bc_policy` (the learner layer). Importing this name still works: it
warns once and gives that module itself."""

import sys
import warnings

from robrew.agents import bc_policy as _moved

warnings.warn(
    "robrew.bc_policy moved to robrew.agents.bc_policy (this name will go away)",
    FutureWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
