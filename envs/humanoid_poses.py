"""Ground-truth pose detectors for the MuJoCo humanoid, from body positions.

Each detector is a fuzzy AND of a few geometric conditions ("head above 1.3 m",
"both hands above the head", ...). A condition ``x > t`` scores ``sigmoid((x - t) / w)``,
so it is 0.5 exactly at the threshold; a pose's score is the minimum over its
conditions, and the pose counts (``detect``) iff every condition holds, i.e. the
score is at least 0.5. Scores are smooth, so they double as a dense reward.

``POSE_PRESETS`` holds one joint configuration per pose that the detector accepts;
tests check each against every detector, and the zero-shot evaluation samples
joint configurations around them.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

POSES: tuple[str, ...] = (
    "kneeling",
    "lotus",
    "standing",
    "arms_raised",
    "splits",
    "hands_on_hips",
    "arms_crossed",
    "one_leg",
)


@dataclass(frozen=True)
class HumanoidFeatures:
    """World-frame positions and axes the detectors read (metres)."""

    head: np.ndarray
    torso: np.ndarray
    pelvis: np.ndarray
    up: np.ndarray  # torso's z axis
    forward: np.ndarray  # torso's x axis
    left: np.ndarray  # torso's y axis
    feet: np.ndarray  # (2, 3): right, left
    knees: np.ndarray  # (2, 3)
    hands: np.ndarray  # (2, 3)
    elbows: np.ndarray  # (2, 3)
    knee_angles: np.ndarray  # (2,) radians, 0 = straight


class FeatureReader:
    """Reads :class:`HumanoidFeatures` from ``MjData`` of the humanoid model (ids cached)."""

    def __init__(self, model: mujoco.MjModel):
        def gid(name: str) -> int:
            return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, name)

        def bid(name: str) -> int:
            return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)

        def qadr(name: str) -> int:
            return int(model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)])

        self._head = gid("head")
        self._torso = bid("torso")
        self._pelvis = bid("pelvis")
        self._feet = [gid("right_foot"), gid("left_foot")]
        self._knees = [bid("right_shin"), bid("left_shin")]
        self._hands = [gid("right_hand"), gid("left_hand")]
        self._elbows = [bid("right_lower_arm"), bid("left_lower_arm")]
        self._knee_q = [qadr("right_knee"), qadr("left_knee")]

    def read(self, data: mujoco.MjData) -> HumanoidFeatures:
        """Returns the features of the state in ``data`` (kinematics must be current)."""
        torso_mat = data.xmat[self._torso].reshape(3, 3)
        return HumanoidFeatures(
            head=data.geom_xpos[self._head].copy(),
            torso=data.xpos[self._torso].copy(),
            pelvis=data.xpos[self._pelvis].copy(),
            up=torso_mat[:, 2].copy(),
            forward=torso_mat[:, 0].copy(),
            left=torso_mat[:, 1].copy(),
            feet=data.geom_xpos[self._feet].copy(),
            knees=data.xpos[self._knees].copy(),
            hands=data.geom_xpos[self._hands].copy(),
            elbows=data.xpos[self._elbows].copy(),
            knee_angles=np.abs(data.qpos[self._knee_q]),
        )


def _above(x: float, t: float, w: float = 0.03) -> float:
    return float(1.0 / (1.0 + np.exp(-(x - t) / w)))


def _below(x: float, t: float, w: float = 0.03) -> float:
    return _above(-x, -t, w)


def _horizontal(v: np.ndarray) -> float:
    return float(np.linalg.norm(v[:2]))


def _torso_frame(f: HumanoidFeatures, p: np.ndarray) -> np.ndarray:
    """Position of ``p`` relative to the torso: (forward, left, up) in metres."""
    d = p - f.torso
    return np.array([d @ f.forward, d @ f.left, d @ f.up])


def _upright(f: HumanoidFeatures, t: float = 0.8) -> float:
    return _above(float(f.up[2]), t, 0.03)


def _standing(f: HumanoidFeatures) -> float:
    return min(
        _above(float(f.head[2]), 1.35),
        _upright(f, 0.85),
        _below(float(f.feet[:, 2].max()), 0.2),
        _below(float(f.knee_angles.max()), np.deg2rad(40), 0.05),
    )


def score_kneeling(f: HumanoidFeatures) -> float:
    """At least one knee on the floor, torso upright, head well below standing height."""
    return min(
        _below(float(f.knees[:, 2].min()), 0.2),
        _upright(f, 0.75),
        _below(float(f.head[2]), 1.3),
        _above(float(f.head[2]), 0.8),
        _above(float(f.pelvis[2]), 0.3),
    )


def score_lotus(f: HumanoidFeatures) -> float:
    """Seated on the floor, upright, knees low and spread wide, feet folded in near the pelvis."""
    knee_spread = abs(float((f.knees[0] - f.knees[1]) @ f.left))
    feet_in = max(_horizontal(f.feet[0] - f.pelvis), _horizontal(f.feet[1] - f.pelvis))
    return min(
        _below(float(f.pelvis[2]), 0.3),
        _upright(f, 0.75),
        _below(float(f.knees[:, 2].max()), 0.3),
        _above(knee_spread, 0.45),
        _below(feet_in, 0.45),
        _above(float(f.knee_angles.min()), np.deg2rad(100), 0.05),
    )


def score_standing(f: HumanoidFeatures) -> float:
    """Upright, head high, both feet on the floor, legs nearly straight."""
    return _standing(f)


def score_arms_raised(f: HumanoidFeatures) -> float:
    """Standing with both hands above the head."""
    return min(_standing(f), _above(float(f.hands[:, 2].min()), float(f.head[2]) + 0.05))


def score_splits(f: HumanoidFeatures) -> float:
    """Pelvis near the floor, legs straight and spread wide, both feet on the floor."""
    return min(
        _below(float(f.pelvis[2]), 0.35),
        _above(_horizontal(f.feet[0] - f.feet[1]), 1.1, 0.05),
        _below(float(f.knee_angles.max()), np.deg2rad(30), 0.05),
        _below(float(f.feet[:, 2].max()), 0.2),
    )


def score_hands_on_hips(f: HumanoidFeatures) -> float:
    """Standing, each hand at its own hip, elbows out to the sides."""
    conds = [_standing(f)]
    for side, sign in ((0, -1.0), (1, 1.0)):  # right hand on the right (-left axis)
        hand = _torso_frame(f, f.hands[side])
        elbow = _torso_frame(f, f.elbows[side])
        conds += [
            _below(hand[2], -0.22),  # at the waist...
            _above(hand[2], -0.48),  # ...not hanging down the thigh
            _above(sign * hand[1], 0.08),  # on its own side...
            _below(sign * hand[1], 0.26),  # ...touching the hip, not held out
            _below(abs(hand[0]), 0.15),  # at the side, not in front
            _above(sign * elbow[1], 0.28),  # elbow out
            _above(elbow[2], hand[2] + 0.1),  # elbow above the hand
        ]
    return min(conds)


def score_arms_crossed(f: HumanoidFeatures) -> float:
    """Standing, both forearms across the chest: each hand in front, past the midline."""
    conds = [_standing(f)]
    for side, sign in ((0, -1.0), (1, 1.0)):
        hand = _torso_frame(f, f.hands[side])
        conds += [
            _above(-sign * hand[1], 0.0, 0.02),  # crossed to the other side
            _above(hand[0], 0.1),  # in front of the chest
            _above(hand[2], -0.35),  # chest height: not hanging...
            _below(hand[2], -0.02),  # ...and below the shoulders
        ]
    return min(conds)


def score_one_leg(f: HumanoidFeatures) -> float:
    """Upright with the head high, one foot on the floor and the other lifted clear."""
    return min(
        _above(float(f.head[2]), 1.2),
        _upright(f, 0.85),
        _below(float(f.feet[:, 2].min()), 0.15),
        _above(float(f.feet[:, 2].max()), 0.3),
    )


DETECTORS = {
    "kneeling": score_kneeling,
    "lotus": score_lotus,
    "standing": score_standing,
    "arms_raised": score_arms_raised,
    "splits": score_splits,
    "hands_on_hips": score_hands_on_hips,
    "arms_crossed": score_arms_crossed,
    "one_leg": score_one_leg,
}
assert tuple(DETECTORS) == POSES


def pose_scores(f: HumanoidFeatures) -> dict[str, float]:
    """Scores in [0, 1] for every pose; a pose is detected iff its score is >= 0.5."""
    return {name: fn(f) for name, fn in DETECTORS.items()}


# Joint angles (degrees) for one configuration of each pose; unlisted joints are 0. Found by
# maximising each detector's score over the joint ranges (differential evolution), then
# checked by eye in the "clip" look; leg joints zeroed where the pose is about the arms.
POSE_PRESETS: dict[str, dict[str, float]] = {
    "kneeling": {
        "abdomen_z": -1,
        "abdomen_y": -15,
        "abdomen_x": 29,
        "right_hip_x": -8,
        "right_hip_z": -12,
        "right_hip_y": 13,
        "right_knee": -146,
        "left_hip_x": -3,
        "left_hip_z": -28,
        "left_hip_y": -98,
        "left_knee": -113,
        "right_shoulder1": 37,
        "right_shoulder2": -26,
        "right_elbow": 18,
        "left_shoulder1": -33,
        "left_shoulder2": 26,
        "left_elbow": -74,
    },
    "lotus": {
        "abdomen_z": -30,
        "abdomen_y": -75,
        "abdomen_x": 34,
        "right_hip_x": -15,
        "right_hip_z": -60,
        "right_hip_y": -36,
        "right_knee": -160,
        "left_hip_x": -15,
        "left_hip_z": -60,
        "left_hip_y": -12,
        "left_knee": -160,
        "right_shoulder1": -2,
        "right_shoulder2": 41,
        "right_elbow": -13,
        "left_shoulder1": -10,
        "left_shoulder2": 7,
        "left_elbow": -33,
    },
    "standing": {},
    "arms_raised": {
        "abdomen_z": 35,
        "abdomen_y": 3,
        "abdomen_x": -1,
        "right_shoulder1": -72,
        "right_shoulder2": 16,
        "right_elbow": -53,
        "left_shoulder1": 76,
        "left_shoulder2": 1,
        "left_elbow": -53,
    },
    "splits": {
        "abdomen_z": 15,
        "abdomen_y": -15,
        "abdomen_x": -27,
        "right_hip_x": -11,
        "right_hip_z": -52,
        "right_hip_y": -44,
        "right_knee": -4,
        "left_hip_x": -14,
        "left_hip_z": -53,
        "left_hip_y": -91,
        "left_knee": -4,
        "right_shoulder1": 59,
        "right_shoulder2": 24,
        "right_elbow": 10,
        "left_shoulder1": 71,
        "left_shoulder2": -40,
        "left_elbow": -34,
    },
    "hands_on_hips": {
        "abdomen_z": 15,
        "abdomen_y": -15,
        "abdomen_x": -2,
        "right_shoulder1": 33,
        "right_shoulder2": -78,
        "right_elbow": 9,
        "left_shoulder1": -33,
        "left_shoulder2": 77,
        "left_elbow": 9,
    },
    "arms_crossed": {
        "abdomen_z": -28,
        "abdomen_y": -5,
        "right_shoulder1": 56,
        "right_shoulder2": 21,
        "right_elbow": -69,
        "left_shoulder1": -53,
        "left_shoulder2": -25,
        "left_elbow": -74,
    },
    "one_leg": {
        "abdomen_y": -1,
        "abdomen_x": 17,
        "right_hip_x": -17,
        "right_hip_z": -1,
        "right_hip_y": -20,
        "right_knee": -43,
        "left_hip_x": -21,
        "left_hip_z": -19,
        "left_hip_y": 10,
        "left_knee": -115,
        "right_shoulder1": -1,
        "right_shoulder2": 34,
        "right_elbow": -30,
        "left_shoulder1": -13,
        "left_shoulder2": 9,
        "left_elbow": -19,
    },
}


def set_joint_pose(model: mujoco.MjModel, data: mujoco.MjData, joints: dict[str, float]) -> None:
    """Sets hinge angles (degrees), an upright root, and lowers the body onto the floor.

    Args:
        model: Humanoid model.
        data: State to overwrite (velocities are zeroed).
        joints: Joint name -> angle in degrees; unlisted hinges are set to 0. Angles are
            clipped to the joint ranges.
    """
    data.qpos[:] = 0.0
    data.qvel[:] = 0.0
    data.qpos[3] = 1.0  # identity root quaternion
    for name, deg in joints.items():
        jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)
        if jid < 0:
            raise KeyError(f"unknown humanoid joint {name!r}")
        lo, hi = model.jnt_range[jid]
        data.qpos[model.jnt_qposadr[jid]] = np.clip(np.deg2rad(deg), lo, hi)
    data.qpos[2] = 0.0
    mujoco.mj_kinematics(model, data)
    data.qpos[2] = -lowest_point(model, data) + 1e-3
    mujoco.mj_forward(model, data)


def lowest_point(model: mujoco.MjModel, data: mujoco.MjData) -> float:
    """Lowest z of any body geom (spheres and capsules), excluding the floor plane."""
    lowest = np.inf
    for g in range(model.ngeom):
        if model.geom_bodyid[g] == 0:
            continue
        r = model.geom_size[g, 0]
        z = data.geom_xpos[g, 2]
        if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CAPSULE:
            half = model.geom_size[g, 1] * abs(data.geom_xmat[g].reshape(3, 3)[2, 2])
            z -= half
        lowest = min(lowest, z - r)
    return float(lowest)
