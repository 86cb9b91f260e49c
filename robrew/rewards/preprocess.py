"""Moved to :mod:`robrew.rewards.clip.preprocess` (this name forwards there, see
:mod:`robrew.moved`)."""

from robrew.moved import forward

forward(__name__, "robrew.rewards.clip.preprocess")
