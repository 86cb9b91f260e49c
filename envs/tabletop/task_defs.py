"""The four tabletop task kinds: ordered subtasks, instruction paraphrases, and the
ground truth (stage, success, named reward terms) as pure functions of the scene state.

Roles are fixed by index: block 0 is the block to move, block 1 is the base for
stacking (a distractor otherwise), block 2 a distractor; pad 0 is the target pad.
Colours are drawn per episode, so the roles are only identifiable through language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from robrew.envs.tabletop.scene import BLOCK_HALF, TABLE_Z


@dataclass(frozen=True)
class SceneState:
    """A snapshot of everything the ground truth reads (world frame, metres)."""

    grip: np.ndarray  # grip point between the finger pads (3,)
    finger: float  # finger opening in [0, 1]; 0 = closed
    blocks: np.ndarray  # (3, 3) block centres: target, base/distractor, distractor
    pads: np.ndarray  # (2, 2) pad centres (xy): target, other
    grasped: bool  # both fingers touch the target block

    @property
    def block(self) -> np.ndarray:
        """Centre of the target block (3,)."""
        return self.blocks[0]


def _xy(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a[:2] - b[:2]))


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def _shape(d: float, scale: float = 10.0) -> float:
    return float(1.0 - np.tanh(scale * d))


REST_Z = TABLE_Z + BLOCK_HALF  # centre height of a block resting on the table


@dataclass(frozen=True)
class TaskDef:
    """One task kind. ``goal(s)`` is where the target block must end up (or be reached)."""

    name: str
    subtasks: tuple[str, ...]
    instructions: tuple[str, ...]
    goal: Callable[[SceneState], np.ndarray]
    stage: Callable[[SceneState], int]
    success: Callable[[SceneState], bool]
    reward_terms: Callable[[SceneState, SceneState], dict[str, float]]  # (state, previous state)


# ---- reach -----------------------------------------------------------------------------


def _reach_success(s: SceneState) -> bool:
    return _dist(s.grip, s.block) < 0.025


REACH = TaskDef(
    name="reach",
    subtasks=("move above the {block} block", "lower the gripper to the {block} block"),
    instructions=(
        "reach the {block} block",
        "move the gripper to the {block} cube",
        "touch the {block} block with the gripper",
        "go to the {block} block",
    ),
    goal=lambda s: s.block,
    stage=lambda s: int(_xy(s.grip, s.block) < 0.03),
    success=_reach_success,
    reward_terms=lambda s, prev: {"reach": _shape(_dist(s.grip, s.block)), "success": float(_reach_success(s))},
)

# ---- push ------------------------------------------------------------------------------


PUSH_STANDOFF = 0.045  # metres from the block centre to where a push starts


def push_behind_point(s: SceneState, standoff: float = PUSH_STANDOFF) -> np.ndarray:
    """Where the grip point should be to push the target block straight at its pad."""
    direction = s.pads[0] - s.block[:2]
    direction = direction / (np.linalg.norm(direction) + 1e-9)
    return np.array([*(s.block[:2] - standoff * direction), s.block[2]])


def _push_success(s: SceneState) -> bool:
    return _xy(s.block, s.pads[0]) < 0.05 and s.block[2] < REST_Z + 0.01


def _push_stage(s: SceneState) -> int:
    low = s.grip[2] < REST_Z + 0.02
    if low and _xy(s.grip, s.block) < 0.07:
        return 2
    return int(_xy(s.grip, push_behind_point(s)) < 0.03)


PUSH = TaskDef(
    name="push",
    subtasks=(
        "move the gripper behind the {block} block",
        "lower the gripper to the table",
        "push the {block} block onto the {pad} pad",
    ),
    instructions=(
        "push the {block} block onto the {pad} pad",
        "slide the {block} cube to the {pad} target",
        "push the {block} cube over to the {pad} pad",
        "shove the {block} block onto the {pad} target",
    ),
    goal=lambda s: np.array([*s.pads[0], REST_Z]),
    stage=_push_stage,
    success=_push_success,
    # "push" pays for progress toward the pad in this step (a potential difference), so
    # hovering behind the block earns nothing from it: a static distance term made
    # "stay behind the block" a local optimum for PPO.
    reward_terms=lambda s, prev: {
        "reach": 0.5 * _shape(_dist(s.grip, push_behind_point(s))),
        "push": 20.0 * (_xy(prev.block, prev.pads[0]) - _xy(s.block, s.pads[0])),
        "success": 2.0 * float(_push_success(s)),
    },
)

# ---- pick-and-place and stack share one structure with a different goal ----------------


def _carry_stage(goal: Callable[[SceneState], np.ndarray], success: Callable[[SceneState], bool]):
    def stage(s: SceneState) -> int:
        g = goal(s)
        if success(s) or (s.grasped and _xy(s.block, g) < 0.03):
            return 4  # lower and release
        if s.grasped and s.block[2] > REST_Z + 0.02:
            return 3  # carry
        if s.grasped:
            return 2  # lift
        if _dist(s.grip, s.block) < 0.02:
            return 1  # grasp
        return 0  # reach

    return stage


def _carry_rewards(goal: Callable[[SceneState], np.ndarray], success: Callable[[SceneState], bool]):
    def terms(s: SceneState, prev: SceneState) -> dict[str, float]:
        g = goal(s)
        lifted = s.block[2] > REST_Z + 0.01
        return {
            "reach": 0.5 * _shape(_dist(s.grip, s.block)),
            "grasp": 0.5 * float(s.grasped),
            "lift": float(s.grasped) * min(1.0, max(0.0, s.block[2] - REST_Z) / 0.08),
            "place": float(s.grasped and lifted) * 2.0 * _shape(_dist(s.block, g + [0, 0, 0.05])),
            "success": 5.0 * float(success(s)),
        }

    return terms


def _pad_goal(s: SceneState) -> np.ndarray:
    return np.array([*s.pads[0], REST_Z])


def _stack_goal(s: SceneState) -> np.ndarray:
    return s.blocks[1] + np.array([0.0, 0.0, 2 * BLOCK_HALF])


def _place_success(s: SceneState) -> bool:
    return _xy(s.block, s.pads[0]) < 0.05 and s.block[2] < REST_Z + 0.005 and not s.grasped


def _stack_success(s: SceneState) -> bool:
    dz = s.blocks[0, 2] - s.blocks[1, 2]
    return (
        _xy(s.blocks[0], s.blocks[1]) < 0.02
        and abs(dz - 2 * BLOCK_HALF) < 0.006
        and s.blocks[1, 2] < REST_Z + 0.005
        and not s.grasped
    )


PICK_PLACE = TaskDef(
    name="pick_place",
    subtasks=(
        "reach the {block} block",
        "grasp the {block} block",
        "lift the {block} block",
        "carry the {block} block above the {pad} pad",
        "lower the {block} block onto the {pad} pad and release it",
    ),
    instructions=(
        "put the {block} block on the {pad} pad",
        "place the {block} cube onto the {pad} target",
        "pick up the {block} block and put it on the {pad} pad",
        "move the {block} cube to the {pad} pad",
    ),
    goal=_pad_goal,
    stage=_carry_stage(_pad_goal, _place_success),
    success=_place_success,
    reward_terms=_carry_rewards(_pad_goal, _place_success),
)

STACK = TaskDef(
    name="stack",
    subtasks=(
        "reach the {block} block",
        "grasp the {block} block",
        "lift the {block} block",
        "carry the {block} block above the {base} block",
        "lower the {block} block onto the {base} block and release it",
    ),
    instructions=(
        "stack the {block} block on the {base} block",
        "put the {block} cube on top of the {base} cube",
        "place the {block} block onto the {base} block",
        "pick up the {block} block and stack it on the {base} one",
    ),
    goal=_stack_goal,
    stage=_carry_stage(_stack_goal, _stack_success),
    success=_stack_success,
    reward_terms=_carry_rewards(_stack_goal, _stack_success),
)

TASKS: dict[str, TaskDef] = {t.name: t for t in (REACH, PUSH, PICK_PLACE, STACK)}
