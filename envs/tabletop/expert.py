"""Scripted experts for the tabletop tasks, with quality knobs, recording subtask spans.

The expert is a phase machine whose phases are the task's subtasks; it reads the
privileged scene state and drives the grip point to waypoints with a proportional
controller. Quality knobs make mixed-quality demonstration sets:

- ``noise``: Gaussian noise (std, in action units) on the motion command;
- ``hesitation``: probability, at each phase start, of pausing for a few steps;
- ``regrasp``: probability (carry tasks) of dropping the block mid-lift and starting over;
- ``fail``: probability of a deliberate failure: the wrong pad / block / place;
- ``explore``: probability that the episode is exploration, not the task: the gripper wanders
  between random waypoints in the workspace with a random grip, and the demonstrator marks the
  whole episode as no progress (``off_task_from() == 0``). These are negatives for a progress
  model that RL will query far from the demos.

Example:
    >>> env = gym.make("robrew/TabletopPickPlace-v0")
    >>> obs, info = env.reset(seed=0)
    >>> expert = ScriptedExpert(env, ExpertConfig(noise=0.1), seed=0)
    >>> for t in range(env.unwrapped.horizon):
    ...     obs, r, term, trunc, info = env.step(expert.act())
    >>> expert.spans()   # [Span(stage=0, start=0, end=18, name='reach the red block'), ...]
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from robrew.envs.tabletop.env import MAX_STEP
from robrew.envs.tabletop.scene import BLOCK_HALF, GRIP_OFFSET, WORKSPACE_HIGH, WORKSPACE_LOW
from robrew.envs.tabletop.task_defs import REST_Z, SceneState
from robrew.spans import Span, spans_from_steps


@dataclass(frozen=True)
class ExpertConfig:
    """Quality knobs of a scripted expert (all zero: a clean expert)."""

    noise: float = 0.0
    hesitation: float = 0.0
    pause_steps: tuple[int, int] = (4, 12)
    regrasp: float = 0.0
    fail: float = 0.0
    explore: float = 0.0

    def __post_init__(self):
        for name in ("noise", "hesitation", "regrasp", "fail", "explore"):
            value = getattr(self, name)
            if value < 0 or (name != "noise" and value > 1):
                raise ValueError(f"ExpertConfig.{name} must be in [0, 1] (noise >= 0), got {value}")


LIFT_HEIGHT = 0.12
#: Phase from which a failing expert pursues the wrong goal (block, pad or place), per task kind.
FAILURE_PHASE = {"reach": 0, "push": 0, "pick_place": 3, "stack": 3}
OPEN, CLOSE = -1.0, 1.0
#: Where exploration waypoints for the grip point are drawn (the workspace bounds the gripper body).
WANDER_LOW = np.subtract(WORKSPACE_LOW, [0.0, 0.0, GRIP_OFFSET])
WANDER_HIGH = np.subtract(WORKSPACE_HIGH, [0.0, 0.0, GRIP_OFFSET])


class ScriptedExpert:
    """Acts in a (wrapped) ``TabletopEnv``; call :meth:`act` once per step after ``reset``.

    Args:
        env: The env (wrappers allowed); must have been reset before the first ``act``.
        config: Quality knobs.
        seed: Seed of the expert's own randomness (noise, pauses, failures).
    """

    def __init__(self, env: gym.Env, config: ExpertConfig | None = None, seed: int | None = None):
        self.env = env.unwrapped
        self.config = config or ExpertConfig()
        kind = self.env.task.name
        self._policy = {"reach": self._reach, "push": self._push, "pick_place": self._carry, "stack": self._carry}[kind]
        self.rng = np.random.default_rng(seed)
        self.reset()

    def reset(self) -> None:
        """Starts a new episode (called automatically when the env is back at step 0)."""
        self.phase = 0
        self.phases: list[int] = []
        self._pause = 0
        self._counter = 0
        self._sub = 0  # sub-step within a phase (e.g. above, then down)
        self._release: np.ndarray | None = None  # where the block was let go
        self._hold_grip = OPEN  # grip command kept during a pause
        self._regrasp_done = False
        self._will_regrasp = self.rng.random() < self.config.regrasp
        # Drawn only when enabled, so datasets without exploration keep their random streams.
        self.exploring = self.config.explore > 0 and self.rng.random() < self.config.explore
        self.failing = not self.exploring and self.rng.random() < self.config.fail
        self._wander_to: tuple[np.ndarray, float] | None = None
        self._maybe_pause()

    def _maybe_pause(self) -> None:
        if self.rng.random() < self.config.hesitation:
            lo, hi = self.config.pause_steps
            self._pause = int(self.rng.integers(lo, hi + 1))

    def _enter(self, phase: int) -> None:
        self.phase, self._sub, self._counter = phase, 0, 0
        self._maybe_pause()

    # ---- public --------------------------------------------------------------------

    def act(self) -> np.ndarray:
        """Returns the next action (4,) float32 for the env's current state."""
        if self.env._t == 0 and self.phases:
            self.reset()
        s = self.env.scene_state()
        kind = self.env.task.name
        self.phases.append(self.phase)
        if self._pause > 0:
            self._pause -= 1
            grip = CLOSE if self.phase in (2, 3) and kind in ("pick_place", "stack") else self._hold_grip
            return np.array([0.0, 0.0, 0.0, grip], dtype=np.float32)
        waypoint, grip = self._wander(s) if self.exploring else self._policy(s)
        self._hold_grip = grip
        move = np.clip((waypoint - s.grip) / MAX_STEP, -1.0, 1.0)
        if self.config.noise > 0:
            move = np.clip(move + self.rng.normal(0.0, self.config.noise, 3), -1.0, 1.0)
        return np.array([*move, grip], dtype=np.float32)

    def spans(self) -> list[Span]:
        """Contiguous runs of each phase so far, as named half-open subtask spans (a phase may recur)."""
        return spans_from_steps(self.phases, self.env.subtasks)

    def off_task_from(self) -> int | None:
        """First frame of a deliberate failure, or None (frame t follows action t - 1).

        Frames from there on pursue the wrong goal: annotation for "no progress made".
        """
        if self.exploring:
            return 0
        if not self.failing:
            return None
        start = FAILURE_PHASE[self.env.task.name]
        if start == 0:
            return 0
        return next((t + 1 for t, p in enumerate(self.phases) if p >= start), None)

    # ---- per task ------------------------------------------------------------------

    def _wander(self, s: SceneState) -> tuple[np.ndarray, float]:
        """Exploration: a random grip-point waypoint in the workspace and a random grip command,
        replaced once reached (or after 25 steps, in case something is in the way)."""
        self._counter += 1
        if self._wander_to is None or np.linalg.norm(s.grip - self._wander_to[0]) < 0.01 or self._counter > 25:
            self._wander_to = (self.rng.uniform(WANDER_LOW, WANDER_HIGH), float(self.rng.uniform(-1.0, 1.0)))
            self._counter = 0
        return self._wander_to

    def _target_block(self, s: SceneState) -> np.ndarray:
        if hasattr(self.env, "expert_target"):  # goal-conditioned envs say where their goal is
            return self.env.expert_target(wrong=self.failing)
        # A failing reach goes to the distractor.
        return s.blocks[2] if self.failing and self.env.task.name == "reach" else s.block

    def _reach(self, s: SceneState) -> tuple[np.ndarray, float]:
        block = self._target_block(s)
        above = block + [0.0, 0.0, 0.06]
        if self.phase == 0:
            if np.linalg.norm(s.grip[:2] - block[:2]) < 0.01:
                self._enter(1)
            else:
                return above, OPEN
        return block, OPEN

    def _push_goal(self, s: SceneState) -> np.ndarray:
        pad = s.pads[1] if self.failing else s.pads[0]
        return pad

    def _push(self, s: SceneState) -> tuple[np.ndarray, float]:
        pad = self._push_goal(s)
        direction = pad - s.block[:2]
        direction /= np.linalg.norm(direction) + 1e-9
        behind = np.array([*(s.block[:2] - 0.05 * direction), REST_Z])
        if self.phase == 0:
            if np.linalg.norm(s.grip[:2] - behind[:2]) < 0.008:
                self._enter(1)
            elif s.grip[2] < REST_Z + 0.04 and np.linalg.norm(s.grip[:2] - behind[:2]) > 0.02:
                return s.grip + [0.0, 0.0, 0.07], CLOSE  # clear the block before moving round it
            else:
                return behind + [0.0, 0.0, 0.07], CLOSE
        if self.phase == 1:
            if s.grip[2] < REST_Z + 0.012:
                self._enter(2)
            else:
                return behind, CLOSE
        if self._release is None and np.linalg.norm(s.block[:2] - pad) < 0.03:
            self._release = s.grip.copy()  # arrived: stop pushing and back off upwards
        if self._release is not None:
            return self._release + [0.0, 0.0, 0.05], CLOSE
        offset = s.grip[:2] - s.block[:2]
        lateral = abs(offset[0] * direction[1] - offset[1] * direction[0])
        if lateral > 0.025:
            self._enter(0)  # the block slid off the pusher: go round again
            return s.grip + [0.0, 0.0, 0.07], CLOSE
        # Drive along the block-to-pad line while steering onto the contact point behind the block.
        contact = s.block[:2] - 0.032 * direction
        speed = 0.6 * min(1.0, np.linalg.norm(s.block[:2] - pad) / 0.06)
        step = speed * MAX_STEP * direction + (contact - s.grip[:2])
        return np.array([*(s.grip[:2] + step), REST_Z]), CLOSE

    def _carry_goal(self, s: SceneState) -> np.ndarray:
        if self.env.task.name == "stack":
            goal = s.blocks[1] + [0.0, 0.0, 2 * BLOCK_HALF]
            if self.failing:
                goal = goal + [0.0, 0.07, 0.0]
                goal[2] = REST_Z  # set it down beside the base instead of on it
            return goal
        pad = s.pads[1] if self.failing else s.pads[0]
        return np.array([*pad, REST_Z])

    def _carry(self, s: SceneState) -> tuple[np.ndarray, float]:
        block = s.block
        if self.phase == 0:  # reach: above the block, then down around it
            above = block + [0.0, 0.0, 0.07]
            if self._sub == 0 and np.linalg.norm(s.grip[:2] - block[:2]) < 0.008:
                self._sub = 1
            if self._sub == 0:
                return above, OPEN
            if np.linalg.norm(s.grip - block) < 0.012:
                self._enter(1)
            else:
                return block, OPEN
        if self.phase == 1:  # grasp: close until the fingers hold it
            self._counter += 1
            if s.grasped and self._counter >= 4 or self._counter > 15:
                self._enter(2)
            else:
                return block, CLOSE
        if self.phase == 2:  # lift
            top = np.array([*s.grip[:2], REST_Z + LIFT_HEIGHT])
            if self._will_regrasp and not self._regrasp_done and s.block[2] > REST_Z + 0.5 * LIFT_HEIGHT:
                self._regrasp_done = True  # drop it and start over
                self._enter(0)
                return s.grip, OPEN
            if not s.grasped and s.block[2] < REST_Z + 0.01 and self._counter > 3:
                self._enter(0)  # slipped: start over
                return s.grip + [0.0, 0.0, 0.03], OPEN
            self._counter += 1
            if s.grip[2] > REST_Z + LIFT_HEIGHT - 0.01:
                self._enter(3)
            else:
                return top, CLOSE
        goal = self._carry_goal(s)
        if self.phase == 3:  # carry above the goal
            above = np.array([*goal[:2], REST_Z + LIFT_HEIGHT])
            if np.linalg.norm(block[:2] - goal[:2]) < 0.006:
                self._enter(4)
            else:
                # Aim the block (not the grip point) at the goal: it may sit off-centre.
                return above + np.r_[s.grip[:2] - block[:2], 0.0], CLOSE
        # lower and release, then back straight up from where it let go
        if self._release is None:
            if block[2] < goal[2] + 0.006:
                self._release = s.grip.copy()
            else:
                return goal + np.r_[s.grip[:2] - block[:2], 0.004], CLOSE
        self._counter += 1
        if self._counter < 6:
            return self._release, OPEN
        return self._release + [0.0, 0.0, 0.08], OPEN
