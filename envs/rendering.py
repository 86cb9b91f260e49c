"""Rendering shared by robrew envs: camera presets resolved to one :class:`Renderer`.

Every robrew env renders through ``robrew.render.Renderer`` (not Gymnasium's
viewer), so frames come at the task's camera and size, without shadows unless asked.
"""

from __future__ import annotations

from collections.abc import Mapping

import mujoco
import numpy as np

from robrew.render import CameraSpec, Renderer

CameraArg = str | CameraSpec | Mapping | None


def resolve_camera(camera: CameraArg, presets: Mapping[str, CameraSpec]) -> CameraSpec:
    """Turns a preset name, a mapping of :class:`CameraSpec` fields or a spec into a spec.

    ``None`` picks the first preset. An unknown preset name raises ``ValueError`` naming
    the valid ones.
    """
    if camera is None:
        return next(iter(presets.values()))
    if isinstance(camera, CameraSpec):
        return camera
    if isinstance(camera, str):
        if camera not in presets:
            raise ValueError(f"unknown camera preset {camera!r}; choose one of {sorted(presets)}")
        return presets[camera]
    if isinstance(camera, Mapping):
        return CameraSpec.from_dict(camera)
    raise TypeError(f"camera must be a preset name, a mapping or a CameraSpec, got {type(camera).__name__}")


class FrameRenderer:
    """Lazily creates the renderer on first use (so envs can be pickled and forked
    before any GL context exists) and renders ``rgb_array`` frames."""

    def __init__(
        self,
        render_mode: str | None,
        width: int,
        height: int,
        camera: CameraSpec,
        shadows: bool = False,
        reflections: bool = False,
    ):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.width, self.height = int(width), int(height)
        self.camera = camera
        self.shadows, self.reflections = shadows, reflections
        self._renderer: Renderer | None = None

    def render(self, model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray | None:
        """Returns a uint8 (H, W, 3) frame, or ``None`` when ``render_mode`` is ``None``."""
        if self.render_mode is None:
            return None
        if self._renderer is None:
            self._renderer = Renderer(
                model, self.width, self.height, self.camera, shadows=self.shadows, reflections=self.reflections
            )
        return self._renderer.render(data)

    def close(self) -> None:
        """Frees the GL context, if one was made."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
