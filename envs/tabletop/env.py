"""Language-specified tabletop manipulation with a position-controlled gripper.

Action (4,) in [-1, 1]: gripper displacement (x, y, z) of up to ``MAX_STEP`` metres per
step, and a grip command (-1 open ... +1 closed). Observation, ``obs="goal"`` (26,) float32:
grip point, gripper velocity, finger opening, the three block centres (target first), the
target block's velocity, the two pad centres (target first), and the goal position.
``obs="objects"`` (55,): grip point, gripper velocity, finger opening, then one slot per
colour of :data:`scene.COLORS` for a block and one for a pad, each ``[present, x, y, z]``
(zeros when absent) — nothing marks the target, so only the instruction says which block
and pad matter (for language-grounding studies).

Each episode draws block and pad colours, positions, and an instruction paraphrase;
``reset(options=...)`` can fix any of them (``block``, ``pad``, ``base``: colour names;
``template``: paraphrase index). ``info`` carries ``is_success``, ``stage`` /
``stage_name`` (ground truth from the state), ``instruction``, ``subtasks`` and
``reward_terms``; the env reward is the sum of the terms (each task's terms are a function
of the state and the previous state).
"""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from robrew.envs.rendering import CameraArg, FrameRenderer, resolve_camera
from robrew.envs.tabletop import scene
from robrew.envs.tabletop.task_defs import TASKS, SceneState, TaskDef
from robrew.render import CameraSpec

MAX_STEP = 0.03  # metres per control step at full action
FRAME_SKIP = 20  # 20 x 2 ms = 25 Hz control

CAMERA_PRESETS: dict[str, CameraSpec] = {
    "front": CameraSpec(distance=1.0, elevation=-40.0, azimuth=90.0, lookat=(0.0, 0.02, scene.TABLE_Z)),
    "top": CameraSpec(distance=0.95, elevation=-89.0, azimuth=90.0, lookat=(0.0, 0.0, scene.TABLE_Z)),
    "side": CameraSpec(distance=1.0, elevation=-25.0, azimuth=0.0, lookat=(0.0, 0.0, scene.TABLE_Z + 0.05)),
}


OBS_DIMS = {"goal": 26, "objects": 7 + 8 * len(scene.COLORS)}
#: Where each quantity sits in an ``obs="goal"`` observation (target block and pad first).
GOAL_OBS = {
    "grip": slice(0, 3),
    "grip_vel": slice(3, 6),
    "finger": slice(6, 7),
    "blocks": slice(7, 16),
    "block": slice(7, 10),
    "block_vel": slice(16, 19),
    "pads": slice(19, 23),
    "pad": slice(19, 21),
    "goal": slice(23, 26),
}


class TabletopEnv(gym.Env):
    """Reach, push, pick-and-place or stack coloured blocks, as the instruction says.

    Args:
        task: ``"reach"``, ``"push"``, ``"pick_place"`` or ``"stack"``.
        camera: Preset (``"front"``, ``"top"``, ``"side"``), mapping, or ``CameraSpec``.
        width: Frame width.
        height: Frame height.
        horizon: Steps per episode (the env truncates itself).
        render_mode: ``None`` or ``"rgb_array"``.
        shadows: Render shadows (slow on CPU).
        reward: ``"dense"`` (the sum of the task's reward terms) or ``"sparse"`` (1 while the task is done).
        obs: ``"goal"`` (target-first state and goal) or ``"objects"`` (colour slots, no target).
        terminate_on_success: End the episode (``terminated``) at the first step the task is done.

    Example:
        >>> env = gym.make("robrew/TabletopPickPlace-v0", render_mode="rgb_array")
        >>> obs, info = env.reset(seed=0)
        >>> info["instruction"]
        'put the red block on the green pad'
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 25}

    def __init__(
        self,
        task: str = "pick_place",
        camera: CameraArg = "front",
        width: int = 224,
        height: int = 224,
        horizon: int = 120,
        render_mode: str | None = None,
        shadows: bool = False,
        reward: str = "dense",
        obs: str = "goal",
        terminate_on_success: bool = False,
    ):
        self.terminate_on_success = bool(terminate_on_success)
        if obs not in OBS_DIMS:
            raise ValueError(f"obs must be one of {sorted(OBS_DIMS)}, got {obs!r}")
        self.obs_mode = obs
        if reward not in ("dense", "sparse"):
            raise ValueError(
                f"reward must be 'dense' (sum of the task's reward terms) or 'sparse' (1 on success), got {reward!r}"
            )
        self.reward_mode = reward
        if task not in TASKS:
            raise ValueError(f"unknown tabletop task {task!r}; choose one of {sorted(TASKS)}")
        if horizon <= 0:
            raise ValueError(f"horizon must be positive, got {horizon}")
        self.task: TaskDef = TASKS[task]
        self.horizon = int(horizon)
        self.render_mode = render_mode
        self._frames = FrameRenderer(render_mode, width, height, resolve_camera(camera, CAMERA_PRESETS), shadows)
        self.model = mujoco.MjModel.from_xml_string(scene.build_xml())
        self.data = mujoco.MjData(self.model)
        self._ids()
        self.action_space = spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(OBS_DIMS[obs],), dtype=np.float32)
        self._low = np.array(scene.WORKSPACE_LOW)
        self._high = np.array(scene.WORKSPACE_HIGH)
        self._home = np.array(scene.GRIPPER_HOME)
        self._target = self._home.copy()
        self._t = 0
        self.colors: dict[str, str] = {}
        self.instruction = ""

    def _ids(self) -> None:
        m = self.model

        def name2id(kind: mujoco.mjtObj, name: str) -> int:
            return mujoco.mj_name2id(m, kind, name)

        self._block_bodies = [name2id(mujoco.mjtObj.mjOBJ_BODY, f"block{i}") for i in range(scene.N_BLOCKS)]
        self._block_geoms = [name2id(mujoco.mjtObj.mjOBJ_GEOM, f"block{i}") for i in range(scene.N_BLOCKS)]
        self._block_qadr = [
            int(m.jnt_qposadr[name2id(mujoco.mjtObj.mjOBJ_JOINT, f"block{i}")]) for i in range(scene.N_BLOCKS)
        ]
        self._block_vadr = [
            int(m.jnt_dofadr[name2id(mujoco.mjtObj.mjOBJ_JOINT, f"block{i}")]) for i in range(scene.N_BLOCKS)
        ]
        self._pad_geoms = [name2id(mujoco.mjtObj.mjOBJ_GEOM, f"pad{i}") for i in range(scene.N_PADS)]
        self._finger_geoms = {name2id(mujoco.mjtObj.mjOBJ_GEOM, n) for n in ("finger_left", "finger_right")}
        self._gripper_body = name2id(mujoco.mjtObj.mjOBJ_BODY, "gripper")
        self._finger_qadr = [
            int(m.jnt_qposadr[name2id(mujoco.mjtObj.mjOBJ_JOINT, n)]) for n in ("finger_left", "finger_right")
        ]

    # ---- state ---------------------------------------------------------------------

    def scene_state(self) -> SceneState:
        """The ground-truth snapshot the task definitions read."""
        d = self.data
        return SceneState(
            grip=d.xpos[self._gripper_body] - np.array([0.0, 0.0, scene.GRIP_OFFSET]),
            finger=float(np.mean(d.qpos[self._finger_qadr]) / scene.FINGER_OPEN),
            blocks=d.xpos[self._block_bodies].copy(),
            pads=d.geom_xpos[self._pad_geoms, :2].copy(),
            grasped=self._grasped(),
        )

    def _grasped(self) -> bool:
        touching: set[int] = set()
        target = self._block_geoms[0]
        for c in self.data.contact[: self.data.ncon]:
            pair = {int(c.geom1), int(c.geom2)}
            if target in pair:
                touching |= pair & self._finger_geoms
        return touching == self._finger_geoms

    def _obs(self, s: SceneState) -> np.ndarray:
        vel = self.data.qvel[:3]
        if self.obs_mode == "objects":
            return self._object_slots(s, vel)
        block_vel = self.data.qvel[self._block_vadr[0] : self._block_vadr[0] + 3]
        return np.concatenate(
            [s.grip, vel, [s.finger], s.blocks.ravel(), block_vel, s.pads.ravel(), self.task.goal(s)]
        ).astype(np.float32)

    def _object_slots(self, s: SceneState, vel: np.ndarray) -> np.ndarray:
        names = list(scene.COLORS)
        slots = np.zeros((len(names), 2, 4))
        for key, xyz in zip(("block", "base", "distractor"), s.blocks):
            slots[names.index(self.colors[key]), 0] = [1.0, *xyz]
        for key, xy in zip(("pad", "other_pad"), s.pads):
            slots[names.index(self.colors[key]), 1] = [1.0, *xy, scene.TABLE_Z]
        return np.concatenate([s.grip, vel, [s.finger], slots.ravel()]).astype(np.float32)

    def referent_slots(self) -> list[int]:
        """``obs="objects"``: the slots the instruction refers to (the block to move, then its pad)."""
        names = list(scene.COLORS)
        return [2 * names.index(self.colors["block"]), 2 * names.index(self.colors["pad"]) + 1]

    def _info(self, s: SceneState) -> dict:
        stage = self.task.stage(s)
        return {
            "is_success": bool(self.task.success(s)),
            "stage": stage,
            "stage_name": self.subtasks[stage],
            "instruction": self.instruction,
            "grasped": s.grasped,
        }

    @property
    def subtasks(self) -> list[str]:
        """This episode's subtasks, in order, with colours filled in."""
        return [t.format(**self.colors) for t in self.task.subtasks]

    # ---- episode -------------------------------------------------------------------

    def _draw_layout(self) -> tuple[np.ndarray, np.ndarray]:
        rng = self.np_random
        for _ in range(1000):
            blocks = rng.uniform([-0.18, -0.18], [0.18, 0.18], size=(scene.N_BLOCKS, 2))
            pads = rng.uniform([-0.18, -0.18], [0.18, 0.18], size=(scene.N_PADS, 2))
            bb = np.linalg.norm(blocks[:, None] - blocks[None], axis=-1)[np.triu_indices(scene.N_BLOCKS, 1)]
            pp = np.linalg.norm(pads[0] - pads[1])
            bp = np.linalg.norm(blocks[:, None] - pads[None], axis=-1)
            if bb.min() > 0.08 and pp > 0.16 and bp.min() > 0.11 and np.linalg.norm(blocks[0] - pads[0]) > 0.14:
                return blocks, pads
        raise RuntimeError("could not place objects without overlap")  # practically unreachable

    def _draw_colors(self, options: dict) -> dict[str, str]:
        names = list(scene.COLORS)
        rng = self.np_random
        for key in ("block", "pad", "base"):
            if key in options and options[key] not in scene.COLORS:
                raise ValueError(f"reset option {key}={options[key]!r} is not a colour; choose from {names}")
        blocks = [options.get("block"), options.get("base")]
        free = [c for c in names if c not in blocks]
        blocks = [b if b is not None else free.pop(int(rng.integers(len(free)))) for b in blocks]
        free = [c for c in names if c not in blocks]
        blocks.append(free[int(rng.integers(len(free)))])
        pad = options.get("pad") or names[int(rng.integers(len(names)))]
        other_pad = [c for c in names if c != pad][int(rng.integers(len(names) - 1))]
        return {"block": blocks[0], "base": blocks[1], "distractor": blocks[2], "pad": pad, "other_pad": other_pad}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = dict(options or {})
        mujoco.mj_resetData(self.model, self.data)
        self.colors = self._draw_colors(options)
        block_colors = [self.colors[k] for k in ("block", "base", "distractor")]
        for geom, color in zip(self._block_geoms, block_colors):
            self.model.geom_rgba[geom, :3] = scene.COLORS[color]
        for geom, color in zip(self._pad_geoms, (self.colors["pad"], self.colors["other_pad"])):
            self.model.geom_rgba[geom, :3] = scene.COLORS[color]
        blocks, pads = self._draw_layout()
        for adr, xy in zip(self._block_qadr, blocks):
            self.data.qpos[adr : adr + 7] = [*xy, scene.TABLE_Z + scene.BLOCK_HALF, 1.0, 0.0, 0.0, 0.0]
        for geom, xy in zip(self._pad_geoms, pads):
            self.model.geom_pos[geom, :2] = xy
        start = self._home + np.r_[self.np_random.uniform(-0.03, 0.03, size=2), 0.0]
        self.data.qpos[:3] = start - self._home
        self.data.qpos[self._finger_qadr] = scene.FINGER_OPEN
        self._target = start.copy()
        self.data.ctrl[:3] = self.data.qpos[:3]
        self.data.ctrl[3:] = scene.FINGER_OPEN
        template = options.get("template")
        if template is None:
            template = int(self.np_random.integers(len(self.task.instructions)))
        self.instruction = self.task.instructions[template].format(**self.colors)
        mujoco.mj_forward(self.model, self.data)
        self._t = 0
        s = self.scene_state()
        self._prev_state = s
        info = self._info(s)
        info["subtasks"] = self.subtasks
        info["colors"] = dict(self.colors)
        return self._obs(s), info

    def step(self, action):
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"action must be finite, got {action}")
        pos = self.data.xpos[self._gripper_body]
        self._target = np.clip(self._target + a[:3] * MAX_STEP, self._low, self._high)
        self._target = np.clip(self._target, pos - 2 * MAX_STEP, pos + 2 * MAX_STEP)  # no wind-up when blocked
        self.data.ctrl[:3] = self._target - self._home
        self.data.ctrl[3:] = scene.FINGER_OPEN * (1.0 - a[3]) / 2.0
        mujoco.mj_step(self.model, self.data, nstep=FRAME_SKIP)
        self._t += 1
        s = self.scene_state()
        terms = self.task.reward_terms(s, self._prev_state)
        self._prev_state = s
        info = self._info(s)
        info["reward_terms"] = terms
        reward = float(sum(terms.values())) if self.reward_mode == "dense" else float(info["is_success"])
        terminated = self.terminate_on_success and info["is_success"]
        return self._obs(s), reward, terminated, self._t >= self.horizon and not terminated, info

    def render(self):
        return self._frames.render(self.model, self.data)

    def close(self):
        self._frames.close()
