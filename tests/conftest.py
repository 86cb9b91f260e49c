"""Shared test setup: headless rendering, and robrew imported from the installed package."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import robrew  # noqa: E402,F401  (before any mujoco import)
import robrew.envs  # noqa: E402,F401
