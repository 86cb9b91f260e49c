"""The behaviour-cloning policy network (plain BC and RA-BC train it), its temporal-ensembling
actor, and its files (safetensors weights + JSON shape config, no pickles).

Below both training and evaluation: ``robrew-rabc`` trains and saves it; ``robrew-train``'s
residual fine-tuning (:mod:`robrew.residual`) and evaluation load it.

Example:
    >>> policy = load_policy("runs/rabc/policies/rabc")
    >>> actor = policy.actor()            # temporal ensembling; actor.reset() at episode start
    >>> action = actor(obs)               # (A,) in [-1, 1]; obs an array or a Dict observation
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from robrew.observations import check_obs_keys, flatten_obs, is_dict_obs, obs_key_names
from robrew.rewards.obs_stats import normalize_obs


class BCPolicy(nn.Module):
    """MLP policy: normalised observation -> the next ``chunk`` actions in [-1, 1].

    Predicting a chunk (ACT-style) and averaging the overlapping predictions at run time
    (temporal ensembling, :class:`ChunkActor`) makes the policy far less prone to the
    stalls and jitter that one-step BC learns from hesitant demonstrations.
    """

    def __init__(
        self, obs_dim: int, act_dim: int, hidden: int = 256, chunk: int = 1, obs_keys: Sequence[str] | None = None
    ):
        super().__init__()
        self.act_dim, self.chunk = int(act_dim), int(chunk)
        self.obs_keys = check_obs_keys(obs_keys)  # Dict observations are read as these keys, concatenated
        self.register_buffer("obs_mean", torch.zeros(obs_dim))
        self.register_buffer("obs_std", torch.ones(obs_dim))
        self.net = nn.Sequential(
            nn.Linear(obs_dim, hidden),
            nn.LayerNorm(hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, act_dim * self.chunk),
            nn.Tanh(),
        )

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """(B, D) observations -> (B, chunk, A) actions."""
        return self.net(normalize_obs(obs, self.obs_mean, self.obs_std)).view(-1, self.chunk, self.act_dim)

    def row(self, obs) -> torch.Tensor:
        """One observation (an array, or a dict read through :attr:`obs_keys`) as a (1, D) tensor."""
        if is_dict_obs(obs):
            if self.obs_keys is None:
                raise ValueError(f"this policy reads array observations, got a Dict with keys {obs_key_names(obs)}")
            obs = flatten_obs(obs, self.obs_keys, row=True)
        return torch.as_tensor(np.asarray(obs, np.float32), device=self.obs_mean.device)[None]

    def rows(self, obs) -> torch.Tensor:
        """A batch of observations (an array ``(B, D)``, or a batched dict read through
        :attr:`obs_keys`) as a (B, D) tensor."""
        if is_dict_obs(obs):
            if self.obs_keys is None:
                raise ValueError(f"this policy reads array observations, got a Dict with keys {obs_key_names(obs)}")
            obs = flatten_obs(obs, self.obs_keys)
        return torch.as_tensor(np.asarray(obs, np.float32), device=self.obs_mean.device).reshape(
            -1, self.obs_mean.numel()
        )

    def forward_rows(self, obs: torch.Tensor) -> torch.Tensor:
        """:meth:`forward`, batch-invariant: row i of the result is bit-for-bit what ``forward``
        gives for row i alone, whatever else is in the batch (one batched call per VecEnv step that
        acts exactly like one call per env; BLAS picks other kernels for other batch sizes)."""
        h = normalize_obs(obs, self.obs_mean, self.obs_std)[:, None, :]
        for layer in self.net:
            if isinstance(layer, nn.Linear):  # B matrix-row products, each alone, as in a batch of one
                b = h.shape[0]
                h = torch.baddbmm(layer.bias.expand(b, 1, -1), h, layer.weight.T.expand(b, -1, -1))
            else:
                h = layer(h)
        return h.view(-1, self.chunk, self.act_dim)

    @torch.no_grad()
    def act(self, obs) -> np.ndarray:
        """First action of the predicted chunk for one observation (no ensembling)."""
        return self.forward(self.row(obs))[0, 0].cpu().numpy()

    def actor(self, decay: float = 0.3) -> ChunkActor:
        """A stateful actor with temporal ensembling; call ``reset()`` at episode start."""
        return ChunkActor(self, decay)

    def batched_actor(self, n: int, decay: float = 0.3) -> BatchedChunkActor:
        """A stateful actor for ``n`` envs at once; ``reset(envs)`` where episodes start."""
        return BatchedChunkActor(self, n, decay)


class BatchedChunkActor:
    """Temporal ensembling for ``n`` envs at once: the action of env i at step t averages every
    chunk prediction made for t (at steps t - chunk + 1 .. t of env i's episode), weighted
    exp(-decay · age), newest first. One batch-invariant forward pass per call
    (:meth:`BCPolicy.forward_rows`), so env i's actions do not depend on the other envs.

    Example:
        >>> actor = policy.batched_actor(8)
        >>> actions = actor(obs)          # (8, A) float64 from (8, D) observations
        >>> actor.reset([2, 5])           # envs 2 and 5 start new episodes
    """

    def __init__(self, policy: BCPolicy, n: int, decay: float = 0.3):
        self.policy, self.n, self.decay = policy, int(n), float(decay)
        self.reset()

    def reset(self, envs=None) -> None:
        """Forgets the predictions of the previous episode of ``envs`` (indices; all if None)."""
        if envs is None:
            self._past: list[list[np.ndarray]] = [[] for _ in range(self.n)]  # per env, newest first
        else:
            for i in envs:
                self._past[int(i)] = []

    @torch.no_grad()
    def __call__(self, obs, envs=None) -> np.ndarray:
        """Actions (len(envs), A) for the observations of ``envs`` (all envs if None), in that order."""
        envs = range(self.n) if envs is None else [int(i) for i in envs]
        chunks = self.policy.forward_rows(self.policy.rows(obs)).cpu().numpy()
        if len(chunks) != len(envs):
            raise ValueError(f"{len(chunks)} observations for {len(envs)} envs")
        out = np.empty((len(envs), self.policy.act_dim))
        for row, i in enumerate(envs):
            past = self._past[i]
            past.insert(0, chunks[row])
            del past[self.policy.chunk :]
            preds = np.stack([p[age] for age, p in enumerate(past)])
            w = np.exp(-self.decay * np.arange(len(preds)))
            out[row] = (w[:, None] * preds).sum(0) / w.sum()
        return out


class ChunkActor:
    """:class:`BatchedChunkActor` for one env: one observation in, one (A,) action out."""

    def __init__(self, policy: BCPolicy, decay: float = 0.3):
        self.policy, self.decay = policy, float(decay)
        self._batched = BatchedChunkActor(policy, 1, decay)

    def reset(self) -> None:
        """Forgets the predictions of the previous episode."""
        self._batched.reset()

    def __call__(self, obs) -> np.ndarray:
        return self._batched(self.policy.row(obs))[0]


POLICY_FILE, POLICY_CONFIG = "policy.safetensors", "bc_policy.json"


def save_policy(policy: BCPolicy, directory: str | Path, extra: dict | None = None) -> Path:
    """Saves weights (safetensors) and shape config to ``directory``, each file atomically."""
    from safetensors.torch import save_file

    from robrew.io import atomic_path, write_json_atomic

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in policy.state_dict().items()}
    atomic_path(out / POLICY_FILE, lambda tmp: save_file(state, tmp))
    hidden = policy.net[0].out_features
    config = {"obs_dim": policy.obs_mean.numel(), "act_dim": policy.act_dim, "hidden": hidden, "chunk": policy.chunk}
    if policy.obs_keys:
        config["obs_keys"] = list(policy.obs_keys)
    write_json_atomic(out / POLICY_CONFIG, {**config, **(extra or {})})
    return out


def load_policy(directory: str | Path, device: str = "cpu") -> BCPolicy:
    """Loads a policy written by :func:`save_policy`.

    Raises:
        ValueError: files missing or corrupt (the message names the file).
    """
    import json

    from safetensors.torch import load_file

    path = Path(directory)
    try:
        cfg = json.loads((path / POLICY_CONFIG).read_text())
        policy = BCPolicy(cfg["obs_dim"], cfg["act_dim"], cfg["hidden"], cfg["chunk"], cfg.get("obs_keys"))
        policy.load_state_dict(load_file(str(path / POLICY_FILE)))
    except FileNotFoundError as e:
        raise ValueError(f"{e.filename}: missing; not a BC policy directory (train one with robrew-rabc)") from None
    except Exception as e:  # json, safetensors and torch raise many types for damaged files
        raise ValueError(f"{path}: corrupt BC policy ({type(e).__name__}: {e}); retrain it") from None
    return policy.to(device).eval()
