"""Moved: ground-truth rollouts live in :mod:`robrew.metrics.rollouts` (evaluation and training
both use them). These names keep working and warn once; import from the new place."""

import warnings

from robrew.metrics.rollouts import Episode, run_episodes, success_rate

__all__ = ["Episode", "run_episodes", "success_rate"]

warnings.warn(
    "robrew.eval.rollouts moved to robrew.metrics.rollouts; import from there (this name will go away)",
    FutureWarning,
    stacklevel=2,
)
