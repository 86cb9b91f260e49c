"""Moved to :mod:`robrew.agents.learner_state` (this name forwards there, see
:mod:`robrew.moved`)."""

from robrew.moved import forward

forward(__name__, "robrew.agents.learner_state")
