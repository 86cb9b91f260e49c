"""Cart-pole with InvertedPendulum-v5 dynamics: no termination, a fixed horizon.

The sanity task for CLIP rewards ("pole vertically upright on top of the cart").
The env's reward is 1 while the pole is within ``upright_angle`` of vertical, else 0
(InvertedPendulum's reward, minus the termination). ``info["is_success"]``: the pole
was upright for at least ``success_fraction`` of the horizon.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces, utils
from gymnasium.envs.mujoco.inverted_pendulum_v5 import InvertedPendulumEnv

from robrew.envs.rendering import CameraArg, FrameRenderer, resolve_camera
from robrew.render import CameraSpec

CAMERA_PRESETS: dict[str, CameraSpec] = {
    "side": CameraSpec(distance=2.6, elevation=-5.0, azimuth=90.0, lookat=(0.0, 0.0, 0.25)),
    "stock": CameraSpec(distance=2.04, elevation=-45.0, azimuth=90.0, lookat=(0.0, 0.0, 0.0)),
}


class CartPoleEnv(InvertedPendulumEnv):
    """Keep the pole upright for a fixed number of steps; never terminates early.

    Args:
        camera: Preset name (``"side"``, ``"stock"``), mapping, or ``CameraSpec``.
        width: Frame width.
        height: Frame height.
        horizon: Steps per episode.
        upright_angle: Radians from vertical that still count as upright.
        success_fraction: Fraction of the horizon the pole must be upright for success.
        render_mode: ``None`` or ``"rgb_array"``.
        reset_noise_scale: Uniform noise on the initial state.

    Example:
        >>> env = gym.make("robrew/CartPole-v0", render_mode="rgb_array")
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 25}

    def __init__(
        self,
        camera: CameraArg = "side",
        width: int = 224,
        height: int = 224,
        horizon: int = 200,
        upright_angle: float = 0.2,
        success_fraction: float = 0.9,
        render_mode: str | None = None,
        reset_noise_scale: float = 0.01,
    ):
        if horizon <= 0:
            raise ValueError(f"horizon must be positive, got {horizon}")
        self._frames = FrameRenderer(render_mode, width, height, resolve_camera(camera, CAMERA_PRESETS))
        super().__init__(reset_noise_scale=reset_noise_scale, render_mode=None, width=width, height=height)
        utils.EzPickle.__init__(
            self, camera, width, height, horizon, upright_angle, success_fraction, render_mode, reset_noise_scale
        )
        self.render_mode = render_mode
        self.metadata = type(self).metadata  # the parent advertises modes we do not support
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(4,), dtype=np.float32)
        self.horizon, self.upright_angle, self.success_fraction = int(horizon), upright_angle, success_fraction
        self._t = 0
        self._upright_steps = 0

    def _get_obs(self) -> np.ndarray:
        return super()._get_obs().astype(np.float32)

    def _info(self, upright: bool) -> dict:
        need = int(np.ceil(self.success_fraction * self.horizon))
        return {"upright": upright, "upright_steps": self._upright_steps, "is_success": self._upright_steps >= need}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, _ = super().reset(seed=seed, options=options)
        self._t, self._upright_steps = 0, 0
        return obs, self._info(bool(abs(obs[1]) <= self.upright_angle))

    def step(self, action):
        self.do_simulation(action, self.frame_skip)
        obs = self._get_obs()
        self._t += 1
        upright = bool(abs(obs[1]) <= self.upright_angle)
        self._upright_steps += int(upright)
        info = self._info(upright)
        info["reward_terms"] = {"upright": float(upright)}
        return obs, float(upright), False, self._t >= self.horizon, info

    def render(self):
        return self._frames.render(self.model, self.data)

    def close(self):
        self._frames.close()
        super().close()
