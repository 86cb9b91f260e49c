"""SB3 policies robrew adds: SAC with LayerNorm in its critics (RLPD, Ball et al. 2023: layer
normalisation keeps the critic from extrapolating wildly on actions the data never shows,
which is what lets an off-policy learner use demonstrations and high update rates).

Example:
    >>> SAC(LayerNormSACPolicy, venv)                       # or "MultiInputPolicy" -> LayerNormMultiInputSACPolicy
"""

from __future__ import annotations

from stable_baselines3.common.policies import ContinuousCritic
from stable_baselines3.sac.policies import MultiInputPolicy, SACPolicy
from torch import nn


class LayerNormCritic(ContinuousCritic):
    """SB3's twin Q critic with a LayerNorm after every hidden linear layer (before its activation)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for idx, q_net in enumerate(self.q_networks):
            layers: list[nn.Module] = []
            for layer in q_net:
                layers.append(layer)
                if isinstance(layer, nn.Linear) and layer.out_features != 1:
                    layers.append(nn.LayerNorm(layer.out_features))
            normed = nn.Sequential(*layers)
            self.add_module(f"qf{idx}", normed)  # replaces the plain one under the same name
            self.q_networks[idx] = normed


class LayerNormSACPolicy(SACPolicy):
    """SAC's MLP policy with :class:`LayerNormCritic` critics."""

    def make_critic(self, features_extractor=None) -> ContinuousCritic:
        critic_kwargs = self._update_features_extractor(self.critic_kwargs, features_extractor)
        return LayerNormCritic(**critic_kwargs).to(self.device)


class LayerNormMultiInputSACPolicy(MultiInputPolicy):
    """SAC's Dict-observation policy with :class:`LayerNormCritic` critics."""

    make_critic = LayerNormSACPolicy.make_critic
