"""TQC (sb3-contrib; Kuznetsov et al. 2020): SAC with distributional critics, the top quantiles of
the pooled critic estimates dropped to curb overestimation. Same family defaults as SAC; its own
settings are ``algo.params.top_quantiles_to_drop_per_net`` and ``algo.params.n_quantiles``.

Example:
    >>> robrew-train task=tabletop_reach algo=tqc algo.params.top_quantiles_to_drop_per_net=2
"""

from __future__ import annotations

from robrew.agents.algorithm import OFF_POLICY_PARAMS, Algorithm
from robrew.agents.sac import OFF_POLICY_DEFAULTS


def _load(residual):
    try:
        from sb3_contrib import TQC
    except ImportError:
        raise ImportError("algo=tqc needs sb3-contrib: pip install sb3-contrib") from None
    return TQC, {}


TQC_ALGORITHM = Algorithm(
    name="tqc",
    load=_load,
    off_policy=True,
    params=OFF_POLICY_PARAMS | {"top_quantiles_to_drop_per_net", "n_quantiles"},
    defaults=OFF_POLICY_DEFAULTS,
    policy_kwargs=("net_arch", "log_std_init", "n_quantiles"),
)
