"""Moved to :mod:`robrew.rewards.progress.text_encoders` (this name forwards there, see
:mod:`robrew.moved`)."""

from robrew.moved import forward

forward(__name__, "robrew.rewards.progress.text_encoders")
