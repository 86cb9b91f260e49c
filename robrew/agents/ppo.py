"""PPO (SB3), and residual PPO when the run has a base policy (:mod:`robrew.agents.residual_ppo`).

Example:
    >>> robrew-train task=humanoid_standing algo=ppo
"""

from __future__ import annotations

from robrew.agents.algorithm import RESIDUAL, Algorithm


def _load(residual):
    if residual is None:
        from stable_baselines3 import PPO

        return PPO, {}
    from robrew.agents.residual_ppo import ResidualPPO

    return ResidualPPO, {"warmup_iters": residual.warmup_iters, "zero_init": residual.zero_init}


PPO_ALGORITHM = Algorithm(
    name="ppo",
    load=_load,
    off_policy=False,
    params=frozenset(
        {"n_epochs", "gae_lambda", "clip_range", "vf_coef", "max_grad_norm", "target_kl", "normalize_advantage"}
    ),
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
