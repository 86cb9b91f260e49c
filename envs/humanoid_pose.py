"""Humanoid pose tasks (VLM-RM style): Humanoid-v5 dynamics, no early termination,
a fixed horizon, and ground-truth pose detectors.

The policy sees Humanoid-v5's state observation. The env's own reward is the soft
score of the task's pose (in [0, 1]); ``info`` carries every pose's score, whether
the task pose holds now (``pose_detected``) and ``is_success``: the pose has held for
at least ``success_fraction`` of the horizon (VLM-RM's episode success, 50 of 100 steps).
"""

from __future__ import annotations

import os
from importlib import resources

import numpy as np
from gymnasium import spaces, utils
from gymnasium.envs.mujoco.humanoid_v5 import HumanoidEnv

from robrew.envs.humanoid_poses import POSES, FeatureReader, pose_scores
from robrew.envs.rendering import CameraArg, FrameRenderer, resolve_camera
from robrew.render import CameraSpec

CAMERA_PRESETS: dict[str, CameraSpec] = {
    # Gymnasium Humanoid-v5's default: tracking the torso from the side.
    "stock": CameraSpec(distance=4.0, elevation=-20.0, azimuth=90.0, lookat=(0.0, 0.0, 2.0), track_body="torso"),
    # VLM-RM's fixed view: distance 3.5, elevation -10, azimuth 180, lookat (0, 0, 1), tracking the torso.
    "fixed": CameraSpec(distance=3.5, elevation=-10.0, azimuth=180.0, lookat=(0.0, 0.0, 1.0), track_body="torso"),
}

LOOKS = ("stock", "clip")


def _model_path(look: str) -> str:
    if look == "stock":
        return "humanoid.xml"  # Gymnasium's own asset
    if look == "clip":
        return os.fspath(resources.files("robrew.assets") / "humanoid_clip.xml")
    raise ValueError(f"unknown humanoid look {look!r}; choose one of {LOOKS}")


class HumanoidPoseEnv(HumanoidEnv):
    """Hold a named pose for as much of a fixed horizon as possible.

    Args:
        pose: One of :data:`POSES`.
        look: ``"stock"`` (Gymnasium's scene) or ``"clip"`` (textured floor, sky and body).
        camera: A preset name (``"stock"``, ``"fixed"``), a mapping of ``CameraSpec``
            fields, or a ``CameraSpec``.
        width: Frame width.
        height: Frame height.
        horizon: Steps per episode; the env truncates itself.
        success_fraction: Fraction of the horizon the pose must hold for ``is_success``.
        render_mode: ``None`` or ``"rgb_array"``.
        shadows: Render shadows (slow on CPU).
        reset_noise_scale: Uniform noise on the initial state, as in Humanoid-v5.

    Example:
        >>> env = gym.make("robrew/HumanoidPose-v0", pose="kneeling", look="clip", camera="fixed")
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 67}

    def __init__(
        self,
        pose: str = "kneeling",
        look: str = "stock",
        camera: CameraArg = "stock",
        width: int = 224,
        height: int = 224,
        horizon: int = 100,
        success_fraction: float = 0.5,
        render_mode: str | None = None,
        shadows: bool = False,
        reset_noise_scale: float = 1e-2,
    ):
        if pose not in POSES:
            raise ValueError(f"unknown pose {pose!r}; choose one of {POSES}")
        if horizon <= 0:
            raise ValueError(f"horizon must be positive, got {horizon}")
        self._frames = FrameRenderer(
            render_mode, width, height, resolve_camera(camera, CAMERA_PRESETS), shadows=shadows
        )
        super().__init__(
            xml_file=_model_path(look),
            terminate_when_unhealthy=False,
            reset_noise_scale=reset_noise_scale,
            render_mode=None,  # we render ourselves; Gymnasium's viewer is never built
            width=width,
            height=height,
        )
        utils.EzPickle.__init__(
            self, pose, look, camera, width, height, horizon, success_fraction, render_mode, shadows, reset_noise_scale
        )
        self.render_mode = render_mode
        self.metadata = type(self).metadata  # the parent advertises modes we do not support
        self.pose, self.look, self.horizon = pose, look, int(horizon)
        self.success_fraction = float(success_fraction)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=self.observation_space.shape, dtype=np.float32)
        self._features = FeatureReader(self.model)
        self._t = 0
        self._held = 0

    def _get_obs(self) -> np.ndarray:
        return super()._get_obs().astype(np.float32)

    def current_observation(self) -> np.ndarray:
        """The observation of the current state (e.g. after :func:`set_joint_pose`)."""
        return self._get_obs()

    def current_pose_scores(self) -> dict[str, float]:
        """Every pose preset's detector score for the current state (>= 0.5: detected)."""
        return pose_scores(self._features.read(self.data))

    def _pose_info(self) -> dict:
        scores = self.current_pose_scores()
        detected = scores[self.pose] >= 0.5
        return {"pose_scores": scores, "pose_detected": detected}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = super().reset(seed=seed, options=options)
        self._t, self._held = 0, 0
        return obs, self._add_info(info, self._pose_info())

    def _add_info(self, info: dict, pose_info: dict) -> dict:
        info.update(pose_info)
        info["pose"] = self.pose
        info["held_steps"] = self._held
        info["is_success"] = self._held >= int(np.ceil(self.success_fraction * self.horizon))
        return info

    def step(self, action):
        obs, _, _, _, info = super().step(action)
        self._t += 1
        pose_info = self._pose_info()
        self._held += int(pose_info["pose_detected"])
        reward = float(pose_info["pose_scores"][self.pose])
        info["reward_terms"] = {"pose": reward}
        return obs, reward, False, self._t >= self.horizon, self._add_info(info, pose_info)

    def render(self):
        return self._frames.render(self.model, self.data)

    def close(self):
        self._frames.close()
        super().close()
