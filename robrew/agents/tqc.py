"""TQC (sb3-contrib; Kuznetsov et al. 2020): SAC with distributional critics, the top quantiles of
the pooled critic estimates dropped to curb overestimation. Same family defaults as SAC; its own
settings are ``algo.params.top_quantiles_to_drop_per_net`` and ``algo.params.n_quantiles``.

Example:
    >>> robrew-train task=tabletop_reach algo=tqc algo.params.top_quantiles_to_drop_per_net=2
    >>> TqcConfig(params=TqcParams(top_quantiles_to_drop_per_net=2))   # the same in Python
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robrew.agents.algorithm import Algorithm
from robrew.agents.sac import OFF_POLICY_DEFAULTS
from robrew.agents.settings import OffPolicyConfig, OffPolicyParams


@dataclass
class TqcParams(OffPolicyParams):
    """TQC's hyperparameters, beside every off-policy learner's."""

    top_quantiles_to_drop_per_net: int | None = None
    n_quantiles: int | None = None  # quantiles per critic


@dataclass
class TqcConfig(OffPolicyConfig):
    """``algo=tqc``."""

    name: str = "tqc"
    params: TqcParams = field(default_factory=TqcParams)


def _load(residual):
    try:
        from sb3_contrib import TQC
    except ImportError:
        raise ImportError("algo=tqc needs sb3-contrib: pip install sb3-contrib") from None
    return TQC, {}


TQC_ALGORITHM = Algorithm(
    name="tqc",
    config=TqcConfig,
    load=_load,
    defaults=OFF_POLICY_DEFAULTS,
    policy_kwargs=("net_arch", "log_std_init", "n_quantiles"),
)
