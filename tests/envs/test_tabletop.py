"""Tabletop envs: language, colours, ground-truth stages, contact grasping, experts."""

import gymnasium as gym
import numpy as np
import pytest

from robrew.envs.tabletop.expert import ExpertConfig, ScriptedExpert
from robrew.envs.tabletop.scene import COLORS
from robrew.envs.tabletop.task_defs import TASKS

IDS = {
    "reach": "robrew/TabletopReach-v0",
    "push": "robrew/TabletopPush-v0",
    "pick_place": "robrew/TabletopPickPlace-v0",
    "stack": "robrew/TabletopStack-v0",
}


def run_expert(kind, seed, config=None):
    env = gym.make(IDS[kind])
    _, info0 = env.reset(seed=seed)
    expert = ScriptedExpert(env, config or ExpertConfig(), seed=seed)
    infos = [info0]
    for _ in range(env.unwrapped.horizon):
        *_, info = env.step(expert.act())
        infos.append(info)
    return env, expert, infos


@pytest.mark.parametrize("kind", sorted(IDS))
def test_clean_expert_succeeds(kind):
    wins = [run_expert(kind, seed)[2][-1]["is_success"] for seed in range(5)]
    assert np.mean(wins) >= 0.8, wins


@pytest.mark.parametrize("kind", ["pick_place", "stack"])
def test_expert_spans_cover_subtasks_in_order(kind):
    env, expert, infos = run_expert(kind, 0)
    spans = expert.spans()
    assert [s.stage for s in spans] == list(range(len(TASKS[kind].subtasks)))
    assert spans[0].start == 0 and spans[-1].end == env.unwrapped.horizon  # half-open: one span per phase step
    assert all(a.end == b.start for a, b in zip(spans, spans[1:]))
    assert [s.name for s in spans] == infos[0]["subtasks"]
    # The env's ground-truth stage passes through every stage and ends in the last one.
    stages = [i["stage"] for i in infos]
    assert set(stages) == set(range(5)) and stages[-1] == 4


def test_grasp_is_real_contact_and_lifts_the_block():
    env, expert, infos = run_expert("pick_place", 1)
    lifted = [i for i in infos if i["grasped"] and i["stage"] == 3]
    assert lifted, "the block was never carried"
    # Open the gripper mid-air: a friction grasp must drop the block (no weld).
    env = gym.make(IDS["pick_place"])
    env.reset(seed=1)
    expert = ScriptedExpert(env, seed=1)
    while True:
        _, _, _, _, info = env.step(expert.act())
        if expert.phase == 3:
            break
    height = env.unwrapped.scene_state().block[2]
    for _ in range(15):
        *_, info = env.step(np.array([0, 0, 0, -1.0], dtype=np.float32))
    assert not info["grasped"]
    assert env.unwrapped.scene_state().block[2] < height - 0.05


def test_failing_expert_fails_and_noise_degrades():
    fails = [run_expert("pick_place", s, ExpertConfig(fail=1.0))[2][-1]["is_success"] for s in range(3)]
    assert not any(fails)
    env, expert, infos = run_expert("pick_place", 0, ExpertConfig(hesitation=1.0, pause_steps=(5, 5)))
    clean = run_expert("pick_place", 0)[2]
    first = lambda infos: next(t for t, i in enumerate(infos) if i["is_success"])  # noqa: E731
    assert first(infos) > first(clean)  # pauses make it slower


def test_instruction_colours_and_paraphrases():
    env = gym.make(IDS["pick_place"])
    seen = set()
    for seed in range(12):
        _, info = env.reset(seed=seed)
        c = info["colors"]
        assert info["instruction"] in [t.format(**c) for t in TASKS["pick_place"].instructions]
        assert c["block"] != c["base"] != c["distractor"] and c["pad"] != c["other_pad"]
        rgba = env.unwrapped.model.geom_rgba[env.unwrapped._block_geoms[0], :3]
        np.testing.assert_allclose(rgba, COLORS[c["block"]], atol=1e-6)
        seen.add(info["instruction"].split()[0])
    assert len(seen) >= 2  # several paraphrases drawn
    _, info = env.reset(seed=0, options={"block": "red", "pad": "green", "template": 0})
    assert info["instruction"] == "put the red block on the green pad"
    with pytest.raises(ValueError, match="not a colour"):
        env.reset(options={"block": "mauve"})


def test_reward_terms_sum_to_reward():
    env = gym.make(IDS["push"])
    env.reset(seed=0)
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert reward == pytest.approx(sum(info["reward_terms"].values()))


def test_push_pays_for_progress_not_for_hovering():
    env = gym.make(IDS["push"])
    env.reset(seed=0)
    for _ in range(3):
        _, _, _, _, info = env.step(np.zeros(4, dtype=np.float32))
    assert info["reward_terms"]["push"] == pytest.approx(0.0, abs=1e-6)  # the block did not move
    env, expert, infos = run_expert("push", 0)
    pushed = sum(i["reward_terms"]["push"] for i in infos[1:])
    assert pushed > 1.0  # 20 x the distance the block travelled toward the pad


def test_push_needs_closed_fingers():
    # Open fingers (8 cm gap) straddle the 4 cm block, so the expert's own push path leaves it
    # off the pad: a learner must close the gripper before any push pays.
    for seed in range(3):
        env = gym.make(IDS["push"])
        env.reset(seed=seed)
        expert = ScriptedExpert(env, ExpertConfig(), seed=seed)
        for _ in range(env.unwrapped.horizon):
            action = np.array(expert.act(), dtype=np.float32)
            action[3] = -1.0  # grip command: fully open
            *_, info = env.step(action)
        assert not info["is_success"], seed


def test_exploring_expert_wanders_and_marks_no_progress():
    env = gym.make(IDS["pick_place"])
    env.reset(seed=0)
    expert = ScriptedExpert(env, ExpertConfig(explore=1.0), seed=0)
    grips = []
    for _ in range(env.unwrapped.horizon):
        *_, info = env.step(expert.act())
        grips.append(env.unwrapped.scene_state().grip)
    assert expert.exploring and not expert.failing and expert.off_task_from() == 0
    assert {s.stage for s in expert.spans()} == {0} and not info["is_success"]
    assert np.ptp(np.array(grips), axis=0).min() > 0.1  # it roams in x, y and z
    assert not run_expert("pick_place", 0)[1].exploring  # off by default


def test_object_observation_has_a_slot_per_colour_and_no_target():
    env = gym.make(IDS["pick_place"], obs="objects")
    names = list(COLORS)
    assert env.observation_space.shape == (7 + 8 * len(names),)
    obs_by_target = {}
    for target, other in (("red", "blue"), ("blue", "red")):
        obs, info = env.reset(seed=3, options={"block": target, "base": other, "pad": "green"})
        expert = ScriptedExpert(env, ExpertConfig(), seed=3)
        for _ in range(40):  # the slots follow the blocks as the expert moves them
            obs, *_ = env.step(expert.act())
        s = env.unwrapped.scene_state()
        slots = obs[7:].reshape(len(names), 2, 4)
        assert slots[:, 0, 0].sum() == 3 and slots[:, 1, 0].sum() == 2  # 3 blocks, 2 pads present
        for key, xyz in zip(("block", "base", "distractor"), s.blocks):
            np.testing.assert_allclose(slots[names.index(info["colors"][key]), 0], [1, *xyz], atol=1e-5)
        np.testing.assert_allclose(slots[names.index("green"), 1, :3], [1, *s.pads[0]], atol=1e-5)
        obs_by_target[target] = obs
    # the same first 40 steps act on another block, so the observations differ, but only through positions
    assert not np.allclose(obs_by_target["red"], obs_by_target["blue"])
    with pytest.raises(ValueError, match="obs must be one of"):
        gym.make(IDS["pick_place"], obs="pixels")
