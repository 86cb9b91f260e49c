"""Moved to :mod:`robrew.agents.demo_replay` (this name forwards there, see
:mod:`robrew.moved`)."""

from robrew.moved import forward

forward(__name__, "robrew.agents.demo_replay")
