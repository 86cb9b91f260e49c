"""Moved to :mod:`robrew.agents.sac_policies` (this name forwards there, see
:mod:`robrew.moved`)."""

from robrew.moved import forward

forward(__name__, "robrew.agents.sac_policies")
