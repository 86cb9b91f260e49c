"""The learner layer: what a run acts with, above the reward wrappers and below training.

Rooms:
    residual       a frozen base policy (BC / RA-BC) plus a bounded learned correction: the
                   batched base actor, the single-env and SB3 VecEnv adapters, their settings
    residual_ppo   PPO for residual fine-tuning: zero-initialised action head, value-only warm-up

Example:
    >>> from robrew.agents.residual import ResidualConfig, VecResidualAction
    >>> venv = VecResidualAction(venv, load_policy("runs/rabc/policies/rabc"), ResidualConfig(scale=0.1))
"""
