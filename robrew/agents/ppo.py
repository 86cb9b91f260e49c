"""PPO (SB3), and residual PPO when the run has a base policy (:mod:`robrew.agents.residual_ppo`):
its settings (:class:`PpoConfig`, ``algo=ppo``) and its :class:`~robrew.agents.algorithm.Algorithm`.

Example:
    >>> robrew-train task=humanoid_standing algo=ppo algo.params.n_epochs=5
    >>> PpoConfig(params=PpoParams(n_steps=256, batch_size=64))      # the same in Python
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robrew.agents.algorithm import RESIDUAL, Algorithm
from robrew.agents.residual import ResidualConfig
from robrew.agents.settings import AlgoConfig, CommonParams


@dataclass
class PpoParams(CommonParams):
    """PPO's hyperparameters (SB3's names), beside :class:`~robrew.agents.settings.CommonParams`."""

    n_steps: int | None = None  # rollout steps per env per update
    ent_coef: float | None = None  # entropy bonus
    n_epochs: int | None = None
    gae_lambda: float | None = None
    clip_range: float | None = None
    vf_coef: float | None = None
    max_grad_norm: float | None = None
    target_kl: float | None = None
    normalize_advantage: bool | None = None


@dataclass
class PpoResidualConfig(ResidualConfig):
    """Residual PPO's settings (``algo.residual.*``), beside every residual learner's."""

    zero_init: bool = True  # the action head starts at zero (the learner's mean action is 0)
    warmup_iters: int = 5  # the first updates train only the value function

    def check(self) -> None:
        """Raises ``ValueError`` with one line for a setting that cannot work."""
        super().check()
        if self.warmup_iters < 0:
            raise ValueError(f"algo.residual.warmup_iters must be >= 0, got {self.warmup_iters}")


@dataclass
class PpoConfig(AlgoConfig):
    """``algo=ppo``."""

    name: str = "ppo"
    params: PpoParams = field(default_factory=PpoParams)
    residual: PpoResidualConfig = field(default_factory=PpoResidualConfig)


def _load(residual):
    if residual is None:
        from stable_baselines3 import PPO

        return PPO, {}
    from robrew.agents.residual_ppo import ResidualPPO

    return ResidualPPO, {"warmup_iters": residual.warmup_iters, "zero_init": residual.zero_init}


PPO_ALGORITHM = Algorithm(
    name="ppo",
    config=PpoConfig,
    load=_load,
    defaults={
        # Residual fine-tuning of a BC policy (algo.base_policy), ResiP's settings: a small
        # initial std, no entropy bonus, large batches of short rollouts from many envs.
        RESIDUAL: {
            "n_steps": 256,
            "batch_size": 512,
            "n_epochs": 10,
            "learning_rate": 3e-4,
            "gamma": 0.99,
            "gae_lambda": 0.95,
            "ent_coef": 0.0,
            "log_std_init": -1.5,
        },
        "tabletop": {"n_steps": 512, "batch_size": 256, "learning_rate": 1e-3, "gamma": 0.97},
        "humanoid": {"n_steps": 1024, "batch_size": 256, "learning_rate": 3e-4, "gamma": 0.99},
        "default": {"n_steps": 512, "batch_size": 128, "learning_rate": 3e-4, "gamma": 0.99},
    },
    # Humanoid's state mixes scales over orders of magnitude (joint angles, velocities, actuator
    # forces, inertias); PPO on the pose score, 8 envs: unnormalised, 0.8M steps gave standing 48% /
    # kneeling 12% success; normalised, 0.4M steps gave 100% / 100%. Residual PPO normalises rewards
    # (ResiP: a sparse success reward, clipped at 5) and observations.
    normalize={RESIDUAL: True, "humanoid": True},
)
