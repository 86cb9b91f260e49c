"""Moved to :mod:`robrew.rewards.progress.slot_pointer` (this name forwards there, see
:mod:`robrew.moved`)."""

from robrew.moved import forward

forward(__name__, "robrew.rewards.progress.slot_pointer")
