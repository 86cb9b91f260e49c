"""SAC (SB3), optionally with LayerNorm critics (``algo.params.critic_layer_norm``,
:mod:`robrew.agents.sac_policies`): its settings (:class:`SacConfig`, ``algo=sac``) and its
:class:`~robrew.agents.algorithm.Algorithm`.

Example:
    >>> robrew-train task=tabletop_reach algo=sac algo.params.critic_layer_norm=true
    >>> SacConfig(params=SacParams(critic_layer_norm=True))          # the same in Python
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robrew.agents.algorithm import Algorithm
from robrew.agents.settings import OffPolicyConfig, OffPolicyParams


@dataclass
class SacParams(OffPolicyParams):
    """SAC's hyperparameters, beside every off-policy learner's."""

    critic_layer_norm: bool | None = None  # LayerNorm in the critics (RLPD)


@dataclass
class SacConfig(OffPolicyConfig):
    """``algo=sac``."""

    name: str = "sac"
    params: SacParams = field(default_factory=SacParams)


# Per task family. SB3 allocates the whole replay buffer up front and checkpoints save all of it
# (humanoid: 300k x 348 floats x 2 = 0.8 GB), so buffer sizes are kept moderate.
# ent_coef: SB3's "auto" starts the temperature at 1.0, which drowns tabletop rewards (0-1 per
# step) for ~10k updates; on dense reach, 10k steps: "auto" 0% (return 5), "auto_0.1" 50% (48),
# "auto_0.01" 50% (51).
OFF_POLICY_DEFAULTS = {
    "tabletop": {
        "learning_rate": 1e-3,
        "gamma": 0.97,
        "buffer_size": 200_000,
        "learning_starts": 1000,
        "ent_coef": "auto_0.01",
    },
    "humanoid": {"learning_rate": 3e-4, "gamma": 0.99, "buffer_size": 300_000, "learning_starts": 5000},
    "default": {"learning_rate": 3e-4, "gamma": 0.99, "buffer_size": 300_000, "learning_starts": 1000},
}


def _load(residual):
    from stable_baselines3 import SAC

    return SAC, {}


def _policy(name: str, params: dict):
    if params.pop("critic_layer_norm", None) and name in ("MlpPolicy", "MultiInputPolicy"):
        from robrew.agents.sac_policies import LayerNormMultiInputSACPolicy, LayerNormSACPolicy

        return LayerNormSACPolicy if name == "MlpPolicy" else LayerNormMultiInputSACPolicy
    return name


SAC_ALGORITHM = Algorithm(
    name="sac",
    config=SacConfig,
    load=_load,
    defaults=OFF_POLICY_DEFAULTS,
    policy=_policy,
)
