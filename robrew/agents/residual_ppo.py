"""PPO for residual fine-tuning (ResiP, Ankile et al. 2024): SB3's PPO whose action head starts
at zero, so the learner's mean correction is 0 and the run starts *as* its base policy, and whose
first ``warmup_iters`` updates train only the value function, so the critic knows the base
policy's returns before the actor moves on its advantages.

Everything else is SB3's PPO (rollouts, GAE, clipped objective, checkpoints through
:mod:`robrew.agents.learner_state`); the residual itself is the env wrapper
(:class:`robrew.agents.residual.VecResidualAction`).

Example:
    >>> model = ResidualPPO("MlpPolicy", venv, warmup_iters=5, policy_kwargs={"log_std_init": -1.5})
    >>> model.learn(1_000_000)
"""

from __future__ import annotations

import torch
from stable_baselines3 import PPO


class ResidualPPO(PPO):
    """See the module docstring.

    Args:
        *args: SB3 PPO's arguments.
        warmup_iters: Updates (rollout + optimisation rounds) that leave the actor untouched.
        zero_init: Zero the action head's weights and bias at construction.
        **kwargs: SB3 PPO's keyword arguments.
    """

    def __init__(self, *args, warmup_iters: int = 0, zero_init: bool = True, **kwargs):
        self.warmup_iters, self.zero_init = int(warmup_iters), bool(zero_init)
        super().__init__(*args, **kwargs)

    def _setup_model(self) -> None:
        super()._setup_model()
        if self.zero_init:
            with torch.no_grad():
                self.policy.action_net.weight.zero_()
                self.policy.action_net.bias.zero_()

    def iteration(self) -> int:
        """The update about to run (1 for the first): from the step count, so a resumed run agrees."""
        return self.num_timesteps // (self.n_steps * self.n_envs)

    def actor_parameters(self) -> list[torch.nn.Parameter]:
        """What only the actor uses: its MLP branch, the action head and the log std."""
        policy = self.policy
        params = [*policy.mlp_extractor.policy_net.parameters(), *policy.action_net.parameters()]
        if isinstance(getattr(policy, "log_std", None), torch.nn.Parameter):
            params.append(policy.log_std)
        if not policy.share_features_extractor:
            params += list(policy.pi_features_extractor.parameters())
        return params

    def train(self) -> None:
        frozen = self.iteration() <= self.warmup_iters
        params = self.actor_parameters() if frozen else []
        for p in params:
            p.requires_grad_(False)  # no gradient: Adam leaves them exactly as they are
        try:
            super().train()
        finally:
            for p in params:
                p.requires_grad_(True)
        self.logger.record("train/actor_frozen", float(frozen))
