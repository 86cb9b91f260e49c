"""Zero-shot CLIP reward (VLM-RM): how much a frame looks like the goal description.

Weights come from an open_clip pretrained tag (downloaded or cached), a checkpoint file,
or a directory holding ``open_clip_config.json`` plus weights (open_clip's
``local-dir:`` layout) -- the way to use CLIP on a machine without network.

Example:
    >>> reward = ClipReward(["a humanoid robot kneeling"], ["a humanoid robot"],
    ...                     model="ViT-bigG-14", pretrained="laion2b_s39b_b160k", alpha=0.5)
    >>> reward.score(frames=frames)          # uint8 (B, H, W, 3) -> float32 (B,)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from robrew.rewards.base import RewardModel, RewardModelError, resolve_precision
from robrew.rewards.clip.preprocess import ClipPreprocess, resize_mode_name
from robrew.rewards.clip.vlm_rm import prompt_set_embedding, vlm_rm_reward

MODES = ("projection", "softmax")
_CHECKPOINT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def load_open_clip(model: str, pretrained: str | None, device: torch.device | str):
    """An open_clip model in eval mode and its tokenizer, offline-friendly.

    Args:
        model: open_clip architecture name (e.g. ``"ViT-B-32"``).
        pretrained: open_clip tag (downloaded once, then cached), a checkpoint file, a directory
            with ``open_clip_config.json`` and weights (open_clip's ``local-dir``), or ``None``
            for random weights.
        device: Where the model lives.

    Returns:
        ``(model, tokenizer)``.

    Raises:
        RewardModelError: a missing checkpoint, or a tag that cannot be downloaded (offline);
            the message says how to fix it.

    Example:
        >>> clip, tokenizer = load_open_clip("ViT-B-32", "/models/vit-b-32", "cpu")
    """
    import open_clip

    name = model
    if pretrained is not None:
        path = Path(os.path.expanduser(pretrained))
        looks_like_path = path.suffix in _CHECKPOINT_SUFFIXES or os.sep in pretrained
        if path.is_dir():
            name, pretrained = f"local-dir:{path.resolve()}", None
        elif looks_like_path and not path.is_file():
            raise RewardModelError(
                f"CLIP checkpoint {pretrained!r} does not exist; pass an open_clip checkpoint file "
                "(.safetensors/.bin/.pt) or a directory with open_clip_config.json and weights"
            )
    import pickle
    import warnings

    try:
        with warnings.catch_warnings():  # torch's note on pickle protocols, for files it then refuses anyway
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            clip = open_clip.create_model(name, pretrained=pretrained, device=device, precision="fp32")
        tokenizer = open_clip.get_tokenizer(name)
    except pickle.UnpicklingError:  # torch.load(weights_only=True) refused objects in the file
        raise RewardModelError(
            f"CLIP checkpoint {pretrained!r} holds Python objects, not only weights; robrew never unpickles "
            "code from files: save the weights as .safetensors"
        ) from None
    except RuntimeError as e:
        if pretrained is None or "download" not in str(e).lower():
            raise
        raise RewardModelError(
            f"could not get open_clip weights {model!r}/{pretrained!r}: {str(e).splitlines()[0]} "
            "This machine may be offline. Download them where there is network (they are cached under "
            "~/.cache/huggingface), or save the model with open_clip and pass pretrained=<checkpoint file or "
            "directory with open_clip_config.json>."
        ) from None
    return clip.eval(), tokenizer


class ClipReward(RewardModel):
    """VLM-RM reward from an open_clip model.

    Args:
        goal_prompts: Descriptions of the goal state (averaged as a set).
        baseline_prompts: Descriptions of the neutral state; required for ``alpha > 0``.
        model: open_clip architecture name (e.g. ``"ViT-B-32"``, ``"ViT-bigG-14"``).
        pretrained: open_clip tag, checkpoint file, or ``local-dir`` directory; ``None``
            means random weights (for tests and speed benchmarks only).
        alpha: Goal-baseline projection strength; 0 is cosine similarity.
        mode: ``"projection"`` (the VLM-RM formula) or ``"softmax"`` (probability mass of
            the goal prompts in a softmax over all goal and baseline prompts).
        resize_mode: ``"crop"`` (scale the shortest side, centre-crop), ``"pad"`` (letterbox) or
            ``"squash"``; ``None`` (default) takes the model's own (its ``preprocess_cfg``,
            e.g. ``squash`` for SigLIP), as does its interpolation.
        batch_size: Frames per forward pass, or ``"auto"`` (the largest that fits on a GPU).
        device: ``"cpu"``, ``"cuda"``, ``"auto"``.
        precision: ``"auto"`` (bf16 autocast on GPU, fp32 on CPU), ``"fp32"``, ``"bf16"``, ``"fp16"``.
        compile: Wrap the image tower in ``torch.compile`` (worth it for long GPU runs;
            the first batches of each new size pay the compilation).

    ``score(..., instructions=[...])`` uses each row's instruction as its goal prompt
    (embedded once per distinct string) instead of ``goal_prompts``.
    """

    name = "clip"

    def __init__(
        self,
        goal_prompts: Sequence[str],
        baseline_prompts: Sequence[str] = (),
        model: str = "ViT-B-32",
        pretrained: str | None = None,
        alpha: float = 0.0,
        mode: str = "projection",
        resize_mode: str | None = None,
        batch_size: int | str = 64,
        device: str = "cpu",
        precision: str = "auto",
        compile: bool = False,
    ):
        super().__init__(device=device, batch_size=batch_size)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if resize_mode is not None:
            resize_mode = resize_mode_name(resize_mode)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        if not goal_prompts or any(not p.strip() for p in goal_prompts):
            raise ValueError("goal_prompts needs at least one non-empty prompt")
        if (alpha > 0 or mode == "softmax") and not baseline_prompts:
            raise ValueError(
                f"baseline_prompts are required for alpha > 0 or mode='softmax' (alpha={alpha}, mode={mode!r})"
            )
        self.goal_prompts, self.baseline_prompts = tuple(goal_prompts), tuple(baseline_prompts)
        self.model_name, self.pretrained = model, pretrained
        self.alpha, self.mode, self.resize_mode, self.precision = float(alpha), mode, resize_mode, precision
        self._autocast_dtype = resolve_precision(precision, self.device)
        self.clip, self._tokenizer = load_open_clip(model, pretrained, self.device)
        self.clip.requires_grad_(False)
        if self.device.type == "cuda":
            self.clip = self.clip.to(memory_format=torch.channels_last)
        self.compile = bool(compile)
        self._compiled_image_tower = None  # built at the first forward pass when compile=True
        self.preprocess = ClipPreprocess.from_open_clip(self.clip.visual.preprocess_cfg, resize_mode)
        with torch.no_grad():
            goal_each = self._embed_text(self.goal_prompts)
            base_each = self._embed_text(self.baseline_prompts) if self.baseline_prompts else None
        self.register_buffer("goal", prompt_set_embedding(goal_each))
        self.register_buffer(
            "baseline", prompt_set_embedding(base_each) if base_each is not None else torch.zeros_like(self.goal)
        )
        # Per-prompt unit embeddings, for the softmax variant.
        prompts = goal_each if base_each is None else torch.cat([goal_each, base_each])
        self.register_buffer("prompt_embeddings", F.normalize(prompts.float(), dim=-1))
        self._instruction_cache: dict[str, torch.Tensor] = {}

    per_device_attrs = ("_compiled_image_tower",)  # compiled graphs are per device: a copy compiles its own

    def clear_caches(self) -> None:
        self._instruction_cache = {}

    def config(self) -> dict:
        return {
            **super().config(),
            "goal_prompts": list(self.goal_prompts),
            "baseline_prompts": list(self.baseline_prompts),
            "model": self.model_name,
            "pretrained": self.pretrained,
            "alpha": self.alpha,
            "mode": self.mode,
            "resize_mode": self.resize_mode,
            "precision": self.precision,
            "compile": self.compile,
        }

    def autocast(self):
        """The autocast context of this model's precision (a no-op in fp32)."""
        if self._autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self._autocast_dtype)

    def _embed_text(self, prompts: Sequence[str]) -> torch.Tensor:
        tokens = self._tokenizer(list(prompts)).to(self.device)
        with self.autocast():
            return self.clip.encode_text(tokens).float()

    def _goal_for(self, instructions: Sequence[str]) -> torch.Tensor:
        missing = sorted({s for s in instructions if s not in self._instruction_cache})
        if missing:
            emb = F.normalize(self._embed_text(missing), dim=-1)
            self._instruction_cache.update(zip(missing, emb))
        return torch.stack([self._instruction_cache[s] for s in instructions])

    def embed_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 (B, H, W, 3) on the device -> L2-normalised float32 image embeddings (B, D)."""
        x = self.preprocess(frames)
        with self.autocast():
            if self.compile and self._compiled_image_tower is None:
                self._compiled_image_tower = torch.compile(self.clip.encode_image, dynamic=False)
            encode = self._compiled_image_tower if self.compile else self.clip.encode_image
            return F.normalize(encode(x).float(), dim=-1)

    def forward(self, frames: torch.Tensor, obs=None, instructions: Sequence[str] | None = None) -> torch.Tensor:
        x = self.embed_frames(frames)
        goal = self.goal if instructions is None else self._goal_for(instructions)
        if self.mode == "projection":
            return vlm_rm_reward(x, goal, self.baseline, self.alpha)
        scale = self.clip.logit_scale.exp().float()
        n_goal = len(self.goal_prompts)
        if instructions is None:
            logits = scale * x @ self.prompt_embeddings.T
        else:  # each row's instruction stands in for the goal prompts
            baseline = self.prompt_embeddings[n_goal:]
            logits = scale * torch.cat([(x * goal).sum(dim=-1, keepdim=True), x @ baseline.T], dim=1)
            n_goal = 1
        return logits.softmax(dim=-1)[:, :n_goal].sum(dim=-1)
