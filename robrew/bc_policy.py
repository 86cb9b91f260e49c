"""Moved to :mod:`robrew.agents.bc_policy` (this name forwards there, see
:mod:`robrew.moved`)."""

from robrew.moved import forward

forward(__name__, "robrew.agents.bc_policy")
