"""Moved to :mod:`robrew.agents.sac_policies` (the learner layer). Importing this name still works: it
warns once and gives that module itself."""

import sys
import warnings

from robrew.agents import sac_policies as _moved

warnings.warn(
    "robrew.policies moved to robrew.agents.sac_policies (this name will go away)",
    FutureWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
