"""The stage-aware progress reward (SARM-style), by part.

Rooms:
    model          :class:`ProgressReward`: a stage head and a within-stage progress head
    parts          the parts it is built from, chosen from tables (input encoders, instruction
                   encoders, fusion)
    slot_pointer   instruction-conditioned pointing over object slots (the ``slots`` encoder)
    text_encoders  instruction embeddings, all offline (hash, MiniLM, CLIP's text tower)
    windows        causal frame windows and the rewind augmentation

The observation statistics it normalises with (:mod:`robrew.rewards.obs_stats`) stay beside the
registry: the BC policy uses them too.

Example:
    >>> from robrew.rewards.progress import ProgressReward
    >>> model = ProgressReward(n_stages=5, prior=[.2, .1, .2, .3, .2], encoder="state", obs_dim=26)
"""

from robrew.rewards.progress.model import ENCODERS, FUSIONS, TEXT_ENCODERS, ProgressReward

__all__ = ["ENCODERS", "FUSIONS", "TEXT_ENCODERS", "ProgressReward"]
