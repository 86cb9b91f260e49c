"""Makes any render order safe: triton's native library is loaded before Mesa's.

Mesa's software EGL/OSMesa (llvmpipe) and triton (torch's compiler) each bring their own
LLVM. Loaded Mesa-first, the process segfaults as soon as torch imports triton (building a
CLIP model, the first torch optimizer); triton-first is safe. Mesa is loaded by the first GL
context, and by ``import mujoco`` itself in some MuJoCo versions (3.2 with ``MUJOCO_GL=egl``),
so ``import robrew`` runs :func:`load_triton_before_mesa` once, before anything can render;
robrew's renderer calls it again (a no-op then). It only ``dlopen``s the library (a few ms,
no ``import triton``); Python's later import of triton reuses the loaded image.

Example:
    >>> import robrew          # the guard has run: render a stock Gymnasium env, then train
    >>> load_triton_before_mesa()   # idempotent
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import warnings
from pathlib import Path

_loaded: list[object] = []  # the library handle, kept alive for the process


def load_triton_before_mesa() -> None:
    """Loads triton's native library if triton is installed and MuJoCo renders through Mesa
    (``MUJOCO_GL`` egl or osmesa); does nothing otherwise or when already done. A triton that
    fails to load only matters to ``torch.compile``: it is a warning, never an error."""
    if _loaded or os.environ.get("MUJOCO_GL", "egl") not in ("egl", "osmesa"):
        return
    spec = importlib.util.find_spec("triton")
    if spec is None or not spec.submodule_search_locations:
        return
    libs = [p for d in spec.submodule_search_locations for p in sorted(Path(d, "_C").glob("libtriton*.so"))]
    if not libs:
        return
    try:
        _loaded.append(ctypes.CDLL(str(libs[0]), mode=os.RTLD_NOW | os.RTLD_LOCAL))
    except OSError as e:
        warnings.warn(f"could not preload triton before Mesa ({e}); torch.compile may crash this process", stacklevel=2)
