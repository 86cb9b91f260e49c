"""The zero-shot CLIP reward (VLM-RM), by part.

Rooms:
    model        :class:`ClipReward` and :func:`load_open_clip` (open_clip tags, checkpoint files,
                 ``local-dir:`` directories)
    preprocess   CLIP's image preprocessing on batched uint8 tensors, on the model's device
    vlm_rm       the VLM-RM reward on embeddings and prompt-set averaging (pure torch)

Example:
    >>> from robrew.rewards.clip import ClipReward
    >>> reward = ClipReward(["a humanoid robot kneeling"], ["a humanoid robot"], pretrained="/models/vit-b-32")
"""

from robrew.rewards.clip.model import MODES, ClipReward, load_open_clip

__all__ = ["MODES", "ClipReward", "load_open_clip"]
