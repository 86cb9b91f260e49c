"""MJCF for the tabletop scene: a table, a position-controlled two-finger gripper,
free blocks and flat target pads.

The gripper hangs from three slide joints (x, y, z) driven by position actuators,
with gravity compensation; two fingers slide along y under position control. Objects
are held by contact friction only (no welds). Block and pad colours are set per
episode through ``model.geom_rgba``, so the model compiles once per env.
"""

from __future__ import annotations

from importlib import resources

TABLE_Z = 0.40  # height of the table surface
BLOCK_HALF = 0.02  # cubes are 4 cm
PAD_RADIUS = 0.06
FINGER_OPEN = 0.04  # finger joint travel: 0 = closed (faces touch), 0.04 = 8 cm gap
FINGER_DROP = 0.06  # fingertips are this far below the gripper origin
GRIP_OFFSET = 0.04  # grip point (centre of the finger pads) below the gripper origin
GRIPPER_HOME = (0.0, 0.0, TABLE_Z + 0.25)
WORKSPACE_LOW = (-0.30, -0.30, TABLE_Z + FINGER_DROP + 0.005)
WORKSPACE_HIGH = (0.30, 0.30, TABLE_Z + 0.35)
N_BLOCKS = 3
N_PADS = 2

COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.12, 0.10),
    "green": (0.15, 0.65, 0.20),
    "blue": (0.12, 0.30, 0.85),
    "yellow": (0.95, 0.85, 0.10),
    "purple": (0.55, 0.20, 0.70),
    "orange": (0.98, 0.50, 0.05),
}


def build_xml() -> str:
    """Returns the scene's MJCF as a string (textures referenced by absolute path)."""
    textures = resources.files("robrew.assets") / "textures"
    blocks = "\n".join(
        f"""    <body name="block{i}" pos="{0.1 * i} 0.25 {TABLE_Z + BLOCK_HALF}">
      <freejoint name="block{i}"/>
      <geom name="block{i}" type="box" size="{BLOCK_HALF} {BLOCK_HALF} {BLOCK_HALF}" mass="0.05"
            condim="4" friction="1.5 0.02 0.002" solref="0.01 1" rgba="0.5 0.5 0.5 1"/>
    </body>"""
        for i in range(N_BLOCKS)
    )
    pads = "\n".join(
        f"""    <geom name="pad{i}" type="cylinder" size="{PAD_RADIUS} 0.001" pos="{0.15 * i} -0.25 {TABLE_Z + 0.001}"
          contype="0" conaffinity="0" rgba="0.5 0.5 0.5 1"/>"""
        for i in range(N_PADS)
    )
    hx, hy, hz = GRIPPER_HOME
    finger = (
        f'type="box" size="0.012 0.005 {FINGER_DROP / 2}" pos="0 {{y}} {-FINGER_DROP / 2}" mass="0.05" condim="4" '
        'friction="2 0.05 0.002" solref="0.01 1" rgba="0.25 0.25 0.28 1"'
    )
    return f"""<mujoco model="robrew_tabletop">
  <compiler angle="radian" autolimits="true" texturedir="{textures}"/>
  <option timestep="0.002" cone="elliptic" impratio="10" integrator="implicitfast"/>
  <visual>
    <global offwidth="640" offheight="480"/>
    <headlight ambient="0.35 0.35 0.35" diffuse="0.5 0.5 0.5"/>
  </visual>
  <asset>
    <texture name="sky" type="skybox" file="sky.png"/>
    <texture name="wood" type="2d" file="wood.png"/>
    <texture name="floor" type="2d" builtin="checker" rgb1="0.55 0.55 0.58" rgb2="0.45 0.45 0.48" width="256" height="256"/>
    <material name="table" texture="wood" texrepeat="2 2" specular="0.1"/>
    <material name="floor" texture="floor" texrepeat="6 6"/>
  </asset>
  <worldbody>
    <light name="top" pos="0 -0.5 2.0" dir="0 0.3 -1" directional="true" diffuse="0.6 0.6 0.6" castshadow="true"/>
    <geom name="floor" type="plane" size="3 3 0.1" material="floor" contype="0" conaffinity="0"/>
    <geom name="table" type="box" size="0.45 0.45 0.02" pos="0 0 {TABLE_Z - 0.02}" material="table"
          friction="0.6 0.005 0.0001"/>
    <geom name="leg0" type="box" size="0.03 0.03 {(TABLE_Z - 0.04) / 2}" pos="0.4 0.4 {(TABLE_Z - 0.04) / 2}" rgba="0.4 0.3 0.2 1" contype="0" conaffinity="0"/>
    <geom name="leg1" type="box" size="0.03 0.03 {(TABLE_Z - 0.04) / 2}" pos="-0.4 0.4 {(TABLE_Z - 0.04) / 2}" rgba="0.4 0.3 0.2 1" contype="0" conaffinity="0"/>
    <geom name="leg2" type="box" size="0.03 0.03 {(TABLE_Z - 0.04) / 2}" pos="0.4 -0.4 {(TABLE_Z - 0.04) / 2}" rgba="0.4 0.3 0.2 1" contype="0" conaffinity="0"/>
    <geom name="leg3" type="box" size="0.03 0.03 {(TABLE_Z - 0.04) / 2}" pos="-0.4 -0.4 {(TABLE_Z - 0.04) / 2}" rgba="0.4 0.3 0.2 1" contype="0" conaffinity="0"/>
{pads}
    <body name="gripper" pos="{hx} {hy} {hz}" gravcomp="1">
      <joint name="gx" type="slide" axis="1 0 0" damping="60" range="-0.5 0.5"/>
      <joint name="gy" type="slide" axis="0 1 0" damping="60" range="-0.5 0.5"/>
      <joint name="gz" type="slide" axis="0 0 1" damping="60" range="-0.5 0.5"/>
      <geom name="palm" type="box" size="0.015 0.05 0.008" pos="0 0 0.008" mass="0.4" rgba="0.3 0.3 0.33 1"/>
      <geom name="mast" type="cylinder" size="0.012 0.1" pos="0 0 0.11" mass="0.01" rgba="0.6 0.6 0.62 1" contype="0" conaffinity="0"/>
      <body name="finger_left" gravcomp="1">
        <joint name="finger_left" type="slide" axis="0 1 0" range="0 {FINGER_OPEN}" damping="2"/>
        <geom name="finger_left" {finger.format(y=0.005)}/>
      </body>
      <body name="finger_right" gravcomp="1">
        <joint name="finger_right" type="slide" axis="0 -1 0" range="0 {FINGER_OPEN}" damping="2"/>
        <geom name="finger_right" {finger.format(y=-0.005)}/>
      </body>
    </body>
{blocks}
  </worldbody>
  <contact>
    <exclude body1="finger_left" body2="finger_right"/>
  </contact>
  <actuator>
    <position name="gx" joint="gx" kp="2000" ctrlrange="-0.5 0.5"/>
    <position name="gy" joint="gy" kp="2000" ctrlrange="-0.5 0.5"/>
    <position name="gz" joint="gz" kp="2000" ctrlrange="-0.5 0.5"/>
    <position name="finger_left" joint="finger_left" kp="300" ctrlrange="0 {FINGER_OPEN}" forcerange="-15 15"/>
    <position name="finger_right" joint="finger_right" kp="300" ctrlrange="0 {FINGER_OPEN}" forcerange="-15 15"/>
  </actuator>
</mujoco>
"""
