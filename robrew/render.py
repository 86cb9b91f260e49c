"""Offscreen MuJoCo renderer shared by every robrew environment.

Frames are uint8 H×W×3. Shadows and reflections are off by default: under software
EGL (Mesa llvmpipe, the only GL on CPU machines) they cost most of a frame, and reward
models do not need them. ``MUJOCO_GL`` defaults to ``egl`` (set in ``robrew.envs``
before MuJoCo is imported).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

os.environ.setdefault("MUJOCO_GL", "egl")

try:
    import mujoco
except (ImportError, OSError) as e:  # e.g. mujoco 3.x installed over 4.x's split packages
    raise ImportError(
        f"mujoco does not import ({e}); if you moved between mujoco 4.x and 3.x, remove both and reinstall one: "
        "pip uninstall -y mujoco mujoco-core mujoco-studio && pip install 'mujoco==<version>'"
    ) from None
import numpy as np

from robrew.gl_order import load_triton_before_mesa


def _check_gl_backend() -> None:
    """Fails clearly when MuJoCo picked a windowed GL backend on a machine with no display
    (this happens when ``mujoco`` is imported before ``MUJOCO_GL`` is set)."""
    from mujoco import gl_context

    backend = getattr(gl_context, "GLContext", None)
    module = getattr(backend, "__module__", "") or ""
    if "glfw" in module and not os.environ.get("DISPLAY"):
        raise RuntimeError(
            "MuJoCo chose the GLFW (windowed) GL backend but there is no display. "
            "Set MUJOCO_GL=egl (GPU or Mesa) or MUJOCO_GL=osmesa in the environment, or import "
            "robrew before mujoco so it can default MUJOCO_GL to egl."
        )


@dataclass(frozen=True)
class CameraSpec:
    """A free (or body-tracking) camera, or a named camera from the model.

    Args:
        distance: Distance from ``lookat`` to the eye, metres.
        elevation: Degrees; negative looks down.
        azimuth: Degrees around the vertical axis.
        lookat: Point looked at (world frame, or offset from the tracked body's
            centre of mass when ``track_body`` is set: MuJoCo overwrites it each frame).
        track_body: Body name to follow (MuJoCo tracking camera), or ``None`` for a fixed one.
        name: Use the model's named camera instead; the other fields are then ignored.

    Example:
        >>> CameraSpec(distance=3.5, elevation=-10.0, azimuth=180.0, lookat=(0, 0, 1))
    """

    distance: float = 3.0
    elevation: float = -20.0
    azimuth: float = 90.0
    lookat: tuple[float, float, float] = (0.0, 0.0, 0.0)
    track_body: str | None = None
    name: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> CameraSpec:
        """Builds a spec from a plain mapping (e.g. parsed YAML); unknown keys raise ``TypeError``."""
        d = dict(d)
        if "lookat" in d:
            d["lookat"] = tuple(float(v) for v in d["lookat"])
        return cls(**d)


@dataclass
class Renderer:
    """Renders a MuJoCo model's current state to uint8 frames from one camera.

    Args:
        model: The ``mujoco.MjModel`` to render. Its offscreen buffer is enlarged if needed.
        width: Frame width in pixels.
        height: Frame height in pixels.
        camera: Where to look from.
        shadows: Render shadows (expensive on CPU).
        reflections: Render floor reflections (expensive on CPU).
        skybox: Draw the skybox.

    Example:
        >>> r = Renderer(env.unwrapped.model, 224, 224, CameraSpec(distance=3.5))
        >>> frame = r.render(env.unwrapped.data)   # uint8 (224, 224, 3)
    """

    model: mujoco.MjModel
    width: int = 224
    height: int = 224
    camera: CameraSpec = field(default_factory=CameraSpec)
    shadows: bool = False
    reflections: bool = False
    skybox: bool = True

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"Renderer size must be positive, got {self.width}x{self.height}")
        vis = self.model.vis.global_
        vis.offwidth = max(int(vis.offwidth), self.width)
        vis.offheight = max(int(vis.offheight), self.height)
        _check_gl_backend()
        load_triton_before_mesa()  # usually done by `import robrew` already
        self._renderer = mujoco.Renderer(self.model, self.height, self.width)
        flags = self._renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SHADOW] = int(self.shadows)
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = int(self.reflections)
        flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = int(self.skybox)
        self._cam = self._make_camera(self.camera)
        self._option = mujoco.MjvOption()
        self._frame = np.empty((self.height, self.width, 3), dtype=np.uint8)

    def _make_camera(self, spec: CameraSpec) -> mujoco.MjvCamera | int:
        if spec.name is not None:
            cam_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, spec.name)
            if cam_id < 0:
                raise ValueError(f"camera {spec.name!r} is not in the model")
            return cam_id
        cam = mujoco.MjvCamera()
        cam.distance = spec.distance
        cam.elevation = spec.elevation
        cam.azimuth = spec.azimuth
        cam.lookat[:] = spec.lookat
        if spec.track_body is not None:
            body_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, spec.track_body)
            if body_id < 0:
                raise ValueError(f"camera track_body {spec.track_body!r} is not in the model")
            cam.type = mujoco.mjtCamera.mjCAMERA_TRACKING
            cam.trackbodyid = body_id
        else:
            cam.type = mujoco.mjtCamera.mjCAMERA_FREE
        return cam

    def render(self, data: mujoco.MjData, out: np.ndarray | None = None) -> np.ndarray:
        """Renders ``data``'s current state.

        Args:
            data: Simulation state (kinematics must be up to date, as after ``mj_step``).
            out: Optional uint8 (H, W, 3) array to write into.

        Returns:
            A new uint8 (H, W, 3) array, or ``out``.
        """
        cam = self._cam
        if not isinstance(cam, int) and cam.type == mujoco.mjtCamera.mjCAMERA_TRACKING:
            # MuJoCo 3.x eases a tracking camera towards its body over successive frames; pinned
            # here, a frame depends on the state alone (as in MuJoCo 4), whatever was rendered before.
            cam.lookat[:] = data.subtree_com[cam.trackbodyid]
        self._renderer.update_scene(data, camera=cam, scene_option=self._option)
        self._renderer.render(out=self._frame)
        if out is None:
            return self._frame.copy()
        out[...] = self._frame
        return out

    def close(self) -> None:
        """Releases the GL context."""
        renderer = getattr(self, "_renderer", None)
        if renderer is not None:
            renderer.close()
            self._renderer = None
