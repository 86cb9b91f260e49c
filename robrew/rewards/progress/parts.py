"""The parts a progress model is built from, chosen from tables: input encoders (what the
model looks at), instruction encoders (how it reads the task) and the rules that say which
combinations work. :class:`robrew.rewards.progress.ProgressReward` picks one of each.

Input encoders (:data:`INPUT_ENCODERS`), each ``encode(inputs) -> (B, hidden)``:

- ``state``: an MLP on normalised observations (fast enough for online RL on CPU);
- ``slots``: object-centric observations, the instruction points at objects
  (:class:`robrew.rewards.progress.slot_pointer.SlotPointer`);
- ``cnn``: a small CNN trained from scratch on uint8 frames;
- ``clip``: a frozen open_clip image tower (rebuilt from its name, never saved) + a trained projection.

Instruction encoders (:data:`TEXT_ENCODERS`), each ``texts -> (N, dim)`` tensors, none with
trained weights: ``none`` (instructions ignored), ``hash`` (hashed bag of words), ``minilm``
(all-MiniLM-L6-v2 sentences, offline), ``minilm_tokens`` (its token embeddings; ``slots``
only), ``clip`` (the CLIP text tower of the ``clip`` input encoder).

Example:
    >>> check_options(Encoder.state, TextEncoder.hash, Fusion.concat, obs_dim=26)   # passes
    >>> INPUT_ENCODERS[Encoder.state].build(Dims(obs_dim=26, hidden=64))
    StateEncoder(...)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import torch
import torch.nn.functional as F
from torch import nn

from robrew.rewards.progress.slot_pointer import SlotPointer
from robrew.rewards.progress.text_encoders import TEXT_DIMS, text_embedding


class Encoder(StrEnum):
    """What the progress model looks at."""

    state = "state"
    slots = "slots"
    cnn = "cnn"
    clip = "clip"


class TextEncoder(StrEnum):
    """How the progress model reads the instruction."""

    none = "none"
    hash = "hash"
    minilm = "minilm"
    minilm_tokens = "minilm_tokens"
    clip = "clip"


class Fusion(StrEnum):
    """How the instruction meets the input features: ``concat`` (appended) or ``film`` (FiLM,
    Perez et al. 2018: ``h * (1 + γ(t)) + β(t)``, so the instruction selects what matters)."""

    concat = "concat"
    film = "film"


@dataclass(frozen=True)
class Dims:
    """Sizes an encoder is built with."""

    hidden: int
    obs_dim: int | None = None
    proprio_dim: int | None = None
    slot_dim: int = 4
    text_dim: int = 64
    tower_dim: int | None = None  # the CLIP tower's embedding size (clip encoder)


@dataclass
class EncoderInputs:
    """One batch as the encoders see it: frames (uint8 B×H×W×3) or observations (normalised and
    raw), instruction embeddings, and the frozen CLIP tower when there is one."""

    frames: torch.Tensor | None
    obs: torch.Tensor | None
    raw_obs: torch.Tensor | None
    text: torch.Tensor | None
    tower: FrozenClipTower | None = None


# ---- input encoders -------------------------------------------------------------------------


class StateEncoder(nn.Sequential):
    """Normalised (B, obs_dim) observations -> (B, hidden)."""

    reads_frames = False

    @classmethod
    def build(cls, d: Dims) -> StateEncoder:
        return cls(nn.Linear(d.obs_dim, d.hidden), nn.ReLU())

    def encode(self, x: EncoderInputs) -> torch.Tensor:
        return self(x.obs)


class SlotsEncoder(SlotPointer):
    """Object-centric observations + instruction -> (B, hidden) through instruction pointers."""

    reads_frames = False

    @classmethod
    def build(cls, d: Dims) -> SlotsEncoder:
        return cls(d.proprio_dim, d.slot_dim, (d.obs_dim - d.proprio_dim) // d.slot_dim, d.text_dim, d.hidden)

    def encode(self, x: EncoderInputs) -> torch.Tensor:
        return self(x.obs, x.raw_obs, x.text)


class SmallCNN(nn.Module):
    """uint8 (B, H, W, 3) frames -> (B, out) features."""

    reads_frames = True

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

    @classmethod
    def build(cls, d: Dims) -> SmallCNN:
        return cls(d.hidden)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames.permute(0, 3, 1, 2).float() / 255.0
        return self.net(x)

    def encode(self, x: EncoderInputs) -> torch.Tensor:
        return self(x.frames)


class ClipProjection(nn.Sequential):
    """Frozen CLIP image embeddings -> (B, hidden) through a trained projection."""

    reads_frames = True

    @classmethod
    def build(cls, d: Dims) -> ClipProjection:
        return cls(nn.Linear(d.tower_dim, d.hidden), nn.ReLU())

    def encode(self, x: EncoderInputs) -> torch.Tensor:
        return self(x.tower.images(x.frames))


INPUT_ENCODERS: dict[Encoder, type] = {
    Encoder.state: StateEncoder,
    Encoder.slots: SlotsEncoder,
    Encoder.cnn: SmallCNN,
    Encoder.clip: ClipProjection,
}
#: Encoders that normalise observations with statistics stored in the model.
OBS_ENCODERS = (Encoder.state, Encoder.slots)


class FrozenClipTower(nn.Module):
    """A frozen open_clip model: L2-normalised image and text embeddings (no gradients)."""

    def __init__(self, model: str, pretrained: str | None, device: torch.device):
        super().__init__()
        from robrew.rewards.clip import load_open_clip
        from robrew.rewards.clip.preprocess import ClipPreprocess

        self.clip, self._tokenizer = load_open_clip(model, pretrained, device)
        self.clip.requires_grad_(False)
        self.preprocess = ClipPreprocess.from_open_clip(self.clip.visual.preprocess_cfg)
        with torch.no_grad():
            self.dim = int(self.clip.encode_text(self._tokenizer(["a"]).to(device)).shape[-1])

    @torch.no_grad()
    def images(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 (B, H, W, 3) frames on the device -> (B, D) unit image embeddings."""
        return F.normalize(self.clip.encode_image(self.preprocess(frames)).float(), dim=-1)

    @torch.no_grad()
    def texts(self, texts: Sequence[str]) -> torch.Tensor:
        """N strings -> (N, D) unit text embeddings on the tower's device."""
        tokens = self._tokenizer(list(texts)).to(next(self.clip.parameters()).device)
        return F.normalize(self.clip.encode_text(tokens).float(), dim=-1)

    def train(self, mode: bool = True):  # always in eval mode: frozen
        return super().train(False)


# ---- instruction encoders -------------------------------------------------------------------


def text_dim(kind: TextEncoder, default: int, tower: FrozenClipTower | None) -> int:
    """Embedding size of the ``kind`` instruction encoder (``default`` for ``hash``)."""
    if kind == TextEncoder.clip:
        return tower.dim
    return int(TEXT_DIMS.get(str(kind), default))


def embed_texts(kind: TextEncoder, texts: Sequence[str], dim: int, tower: FrozenClipTower | None) -> torch.Tensor:
    """(N, dim) embeddings of ``texts`` ((N, tokens, dim) for ``minilm_tokens``), on CPU or the tower's device."""
    if kind == TextEncoder.clip:
        return tower.texts(texts)
    return torch.from_numpy(text_embedding(str(kind), texts, dim))


TEXT_ENCODERS = tuple(TextEncoder)


# ---- which combinations work --------------------------------------------------------------


def check_options(
    encoder: Encoder,
    text: TextEncoder,
    fusion: Fusion,
    obs_dim: int | None = None,
    proprio_dim: int | None = None,
    slot_dim: int = 4,
) -> None:
    """Raises ``ValueError`` (one line saying what to change) for a combination that cannot work."""
    for name, kind, value in (("encoder", Encoder, encoder), ("text", TextEncoder, text), ("fusion", Fusion, fusion)):
        if value not in tuple(kind):
            raise ValueError(f"{name} must be one of {[k.value for k in kind]}, got {value!r}")
    slots_ok = bool(proprio_dim) and obs_dim and obs_dim > proprio_dim and (obs_dim - proprio_dim) % slot_dim == 0
    rules = [
        (
            fusion == Fusion.film and text == TextEncoder.none,
            "fusion='film' needs an instruction encoder (text != 'none')",
        ),
        (encoder in OBS_ENCODERS and not obs_dim, f"the {encoder} encoder needs obs_dim"),
        (
            text == TextEncoder.minilm_tokens and encoder != Encoder.slots,
            "text='minilm_tokens' (token embeddings) is read by the slots encoder only; use text='minilm' here",
        ),
        (
            text == TextEncoder.minilm_tokens and fusion == Fusion.film,
            "fusion='film' needs a sentence embedding; use fusion='concat' with text='minilm_tokens'",
        ),
        (
            encoder == Encoder.slots and (text == TextEncoder.none or not slots_ok),
            "the slots encoder needs an instruction encoder (text != 'none') and obs_dim - proprio_dim "
            f"to be a positive multiple of slot_dim; got text={str(text)!r}, obs_dim={obs_dim}, "
            f"proprio_dim={proprio_dim}, slot_dim={slot_dim}",
        ),
        (
            text == TextEncoder.clip and encoder != Encoder.clip,
            "text='clip' uses the CLIP tower of encoder='clip'; pick encoder='clip' or another text encoder",
        ),
    ]
    for broken, message in rules:
        if broken:
            raise ValueError(message)
