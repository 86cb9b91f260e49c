"""Moved: the residual action wrappers live in :mod:`robrew.agents.residual` (the learner layer),
and take a :class:`~robrew.agents.residual.ResidualConfig` instead of ``scale=`` / ``penalty=``.
These names keep working and warn once; import from the new place."""

import warnings

from robrew.agents.residual import ResidualAction, ResidualConfig, VecResidualAction

__all__ = ["ResidualAction", "ResidualConfig", "VecResidualAction"]

warnings.warn(
    "robrew.residual moved to robrew.agents.residual; ResidualAction(env, base, ResidualConfig(scale=..., "
    "penalty=...)) replaces scale= / penalty= (this name will go away)",
    FutureWarning,
    stacklevel=2,
)
