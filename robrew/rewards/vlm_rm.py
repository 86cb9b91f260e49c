"""Moved to :mod:`robrew.rewards.clip.vlm_rm` (this name forwards there, see
:mod:`robrew.moved`)."""

from robrew.moved import forward

forward(__name__, "robrew.rewards.clip.vlm_rm")
