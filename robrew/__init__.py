"""robrew: reward learning and policy training for MuJoCo robots.

Importing ``robrew`` is light (no torch); it makes any render order safe for torch
(:mod:`robrew.gl_order`). Environments register on ``import robrew.envs``;
tasks load with :func:`robrew.load_task`.

Example:
    >>> import robrew, gymnasium as gym
    >>> spec = robrew.load_task("tabletop_pick_place")
    >>> env = robrew.make_env(spec, render_mode="rgb_array")
"""

import os

# Headless rendering by default. Must happen before mujoco is first imported.
os.environ.setdefault("MUJOCO_GL", "egl")

from robrew.gl_order import load_triton_before_mesa  # noqa: E402

load_triton_before_mesa()  # before anything renders: any render order is then safe (see robrew.gl_order)

__version__ = "0.1.0"

__all__ = ["__version__", "load_task", "list_tasks", "make_env", "TaskSpec", "TaskSpecError"]


def __getattr__(name: str):
    # Lazy re-exports keep `import robrew` cheap.
    if name in ("load_task", "list_tasks", "TaskSpec", "TaskSpecError"):
        from robrew import taskspec

        return getattr(taskspec, name)
    if name == "make_env":
        from robrew.env_factory import make_env

        return make_env
    raise AttributeError(f"module 'robrew' has no attribute {name!r}")
