"""Old module names that keep working after a move: the old name warns once and *is* the new
module (the same object, so ``isinstance`` checks and monkeypatching see one module).

Example (the whole of an old module's file)::

    from robrew.moved import forward

    forward(__name__, "robrew.agents.bc_policy")
"""

from __future__ import annotations

import importlib
import sys
import warnings


def forward(old: str, new: str) -> None:
    """Makes module ``old`` (call it with ``__name__`` from the old file) the module ``new``, with
    one ``FutureWarning`` saying where it went."""
    module = importlib.import_module(new)
    warnings.warn(f"{old} moved to {new}; import it from there (this name will go away)", FutureWarning, stacklevel=3)
    sys.modules[old] = module
