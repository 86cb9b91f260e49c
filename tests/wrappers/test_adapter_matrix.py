"""One scoring core, three adapters: every composition x (single-frame, windowed) x (frames,
observations) model gives the same rewards through the single-env wrapper, the SB3 VecEnv
wrapper and the Gymnasium vector wrapper (both autoreset modes), and those rewards equal a
reference computed offline from each episode's states (``score_episode``), including
Φ(terminal) = 0 on termination and Φ(s_T) kept on a time-limit truncation."""

from functools import partial

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from stable_baselines3.common.vec_env import DummyVecEnv

from robrew.rewards.base import RewardModel
from robrew.rewards.progress import ProgressReward
from robrew.rewards.progress.windows import episode_windows
from robrew.testing import FrameCounterEnv
from robrew.wrappers import RewardComposition, RewardModelWrapper, VecRewardModelWrapper, VectorRewardModelWrapper
from robrew.wrappers.core import CONSTANT_RUN, ConstantFrameError, ConstantFrameWarning
from robrew.wrappers.frames import FrameInInfo

N_ENVS, EPISODES = 3, 3
LENGTHS = [3, 4, 5]  # env i's episode length; env 2 is cut at 3 steps by a TimeLimit (truncation)
TRUNCATED_AT = {2: 3}

COMPOSITIONS = {
    "replace": RewardComposition("replace"),
    "add": RewardComposition("add"),
    "weighted": RewardComposition("weighted", env_weight=0.5, model_weight=2.0),
    "potential": RewardComposition("potential", env_weight=1.0, model_weight=2.0, gamma=0.9),
    "delta": RewardComposition("delta", model_weight=3.0),
}


class WindowFrameModel(RewardModel):
    """A window-3 frame model: Σ_k (k + 1) · mean(frame_k) / 255 over the causal window."""

    name = "window_frames"
    window = 3

    def forward(self, frames, obs=None, instructions=None):
        means = frames.float().mean(dim=(2, 3, 4)) / 255.0  # (B, W)
        return (means * torch_arange(self.window, means)).sum(dim=1)

    def score_episode(self, frames=None, obs=None, instructions=None):
        return self.score(frames=episode_windows(frames, self.window))


class FrameModel(RewardModel):
    name = "frames"

    def forward(self, frames, obs=None, instructions=None):
        return frames.float().mean(dim=(1, 2, 3)) / 100.0


class ObsModel(RewardModel):
    name = "obs"
    needs_frames, needs_obs = False, True

    def forward(self, frames, obs, instructions=None):
        return 0.1 * obs[:, 0] + 0.01 * obs[:, 1] ** 2


def torch_arange(n, like):
    import torch

    return torch.arange(1, n + 1, dtype=like.dtype, device=like.device)


def window_obs_model():
    import torch

    torch.manual_seed(0)
    return ProgressReward(2, [0.5, 0.5], encoder="state", obs_dim=2, text="none", window=3)


MODELS = {"frames": FrameModel, "obs": ObsModel, "window_frames": WindowFrameModel, "window_obs": window_obs_model}


class DictObs(gym.ObservationWrapper):
    """The counter env with goal-style Dict observations: ``observation`` is the plain one."""

    def __init__(self, env):
        super().__init__(env)
        box = env.observation_space
        self.observation_space = gym.spaces.Dict({"observation": box, "desired_goal": gym.spaces.Box(0, 9, (1,))})

    def observation(self, obs):
        return {"observation": obs, "desired_goal": np.array([7.0], np.float32)}


def make_env(i: int, frames: bool = True, dict_obs: bool = False) -> gym.Env:
    env = FrameCounterEnv(length=LENGTHS[i], tag=i, render_mode="rgb_array")
    if dict_obs:
        env = DictObs(env)
    if i in TRUNCATED_AT:
        env = gym.wrappers.TimeLimit(env, max_episode_steps=TRUNCATED_AT[i])
    return FrameInInfo(env) if frames else env


def reference(model: RewardModel, comp: RewardComposition, i: int) -> list[tuple[float, float]]:
    """(total, model) per step of EPISODES episodes of env i, computed offline."""
    length = TRUNCATED_AT.get(i, LENGTHS[i])
    terminated_at_end = i not in TRUNCATED_AT
    ts = np.arange(length + 1)
    frames = np.stack([np.full((8, 8, 3), FrameCounterEnv.code(i, t), np.uint8) for t in ts])
    obs = np.stack([[t, i] for t in ts]).astype(np.float32)
    m = model.score_episode(frames=frames if model.needs_frames else None, obs=obs if model.needs_obs else None)
    m = m.astype(np.float64)
    out = []
    for t in range(1, length + 1):
        r_env = float(t)
        if comp.mode == "replace":
            total = m[t]
        elif comp.mode == "add":
            total = r_env + m[t]
        elif comp.mode == "weighted":
            total = 0.5 * r_env + 2.0 * m[t]
        elif comp.mode == "potential":
            phi_next = 0.0 if (t == length and terminated_at_end) else m[t]
            total = r_env + 2.0 * (0.9 * phi_next - m[t - 1])
        else:
            total = 3.0 * (m[t] - m[t - 1])
        out.append((total, m[t]))
    return out * EPISODES


def run_single(model, comp, dict_obs=False) -> list[list[tuple[float, float]]]:
    out = []
    for i in range(N_ENVS):
        env = RewardModelWrapper(make_env(i, frames=False, dict_obs=dict_obs), model, comp)
        rows = []
        for _ in range(EPISODES):
            env.reset(seed=0)
            done = False
            while not done:
                _, r, term, trunc, info = env.step(0)
                rows.append((r, info["model_reward"]))
                done = term or trunc
        out.append(rows)
    return out


def run_sb3(model, comp, dict_obs=False) -> list[list[tuple[float, float]]]:
    venv = DummyVecEnv([partial(make_env, i, dict_obs=dict_obs) for i in range(N_ENVS)])
    venv = VecRewardModelWrapper(venv, model, comp)
    venv.reset()
    out, episodes = [[] for _ in range(N_ENVS)], np.zeros(N_ENVS, int)
    while episodes.min() < EPISODES:
        _, rewards, dones, infos = venv.step(np.zeros(N_ENVS, dtype=int))
        for i in range(N_ENVS):
            if episodes[i] < EPISODES:
                out[i].append((rewards[i], infos[i]["model_reward"]))
            episodes[i] += dones[i]
            assert "frame" not in infos[i] and "frame" not in venv.venv.reset_infos[i]
    return out


def run_vector(model, comp, mode, dict_obs=False) -> list[list[tuple[float, float]]]:
    envs = SyncVectorEnv([partial(make_env, i, dict_obs=dict_obs) for i in range(N_ENVS)], autoreset_mode=mode)
    envs = VectorRewardModelWrapper(envs, model, comp)
    _, info = envs.reset(seed=0)
    assert "frame" not in info
    out, episodes = [[] for _ in range(N_ENVS)], np.zeros(N_ENVS, int)
    while episodes.min() < EPISODES:
        _, rewards, term, trunc, info = envs.step(np.zeros(N_ENVS, dtype=int))
        assert "frame" not in info and "frame" not in info.get("final_info", {})
        for i in range(N_ENVS):
            if info["_model_reward"][i] and episodes[i] < EPISODES:
                out[i].append((rewards[i], info["model_reward"][i]))
            episodes[i] += term[i] or trunc[i]
    return out


@pytest.mark.parametrize("model_name", list(MODELS))
@pytest.mark.parametrize("comp_name", list(COMPOSITIONS))
def test_all_adapters_agree_with_the_offline_reference(model_name, comp_name):
    model, comp = MODELS[model_name](), COMPOSITIONS[comp_name]
    expected = [reference(model, comp, i) for i in range(N_ENVS)]
    runs = {
        "single": run_single(model, comp),
        "sb3": run_sb3(model, comp),
        "vector_next_step": run_vector(model, comp, AutoresetMode.NEXT_STEP),
        "vector_same_step": run_vector(model, comp, AutoresetMode.SAME_STEP),
    }
    for name, got in runs.items():
        for i in range(N_ENVS):
            np.testing.assert_allclose(
                np.array(got[i], np.float64), np.array(expected[i]), rtol=1e-5, atol=1e-6, err_msg=f"{name} env {i}"
            )
    # The truncation rule is visible: env 2's last step keeps Φ(s_T), env 0's (terminated) drops it.
    if comp_name == "potential":
        assert expected[0][2][0] != pytest.approx(3 + 2.0 * (0.9 * expected[0][2][1] - expected[0][1][1]))
        assert expected[2][2][0] == pytest.approx(3 + 2.0 * (0.9 * expected[2][2][1] - expected[2][1][1]))


def test_model_success_in_every_adapter():
    model, comp = ObsModel(), RewardComposition("replace")
    single = RewardModelWrapper(make_env(0, frames=False), model, comp, success_threshold=0.15)
    single.reset(seed=0)
    flags = [single.step(0)[4]["model_success"] for _ in range(3)]
    assert flags == [False, True, True]  # model 0.1 t: 0.1, 0.2, 0.3
    venv = VecRewardModelWrapper(DummyVecEnv([partial(make_env, 0)]), model, comp, success_threshold=0.15)
    venv.reset()
    assert [venv.step(np.zeros(1, int))[3][0]["model_success"] for _ in range(3)] == flags
    envs = VectorRewardModelWrapper(SyncVectorEnv([partial(make_env, 0)]), model, comp, success_threshold=0.15)
    envs.reset(seed=0)
    assert [bool(envs.step(np.zeros(1, int))[4]["model_success"][0]) for _ in range(3)] == flags


@pytest.mark.parametrize("model_name", ["frames", "obs", "window_obs"])
@pytest.mark.parametrize("comp_name", ["add", "potential"])
def test_dict_observations_through_every_adapter(model_name, comp_name):
    """Goal-style Dict observations pass through untouched; observation models read the keys they
    were given (here ``observation``, so the rewards equal the plain env's reference)."""
    model, comp = MODELS[model_name](), COMPOSITIONS[comp_name]
    if model.needs_obs:
        model.set_obs_keys(["observation"])
    expected = [reference(model, comp, i) for i in range(N_ENVS)]
    runs = {
        "single": run_single(model, comp, dict_obs=True),
        "sb3": run_sb3(model, comp, dict_obs=True),
        "vector_next_step": run_vector(model, comp, AutoresetMode.NEXT_STEP, dict_obs=True),
        "vector_same_step": run_vector(model, comp, AutoresetMode.SAME_STEP, dict_obs=True),
    }
    for name, got in runs.items():
        for i in range(N_ENVS):
            np.testing.assert_allclose(
                np.array(got[i], np.float64), np.array(expected[i]), rtol=1e-5, atol=1e-6, err_msg=f"{name} env {i}"
            )


def test_dict_observations_without_obs_keys_are_one_clear_error():
    venv = VecRewardModelWrapper(DummyVecEnv([partial(make_env, 0, dict_obs=True)]), ObsModel())
    venv.reset()
    with pytest.raises(ValueError, match=r"Dict with keys .*'observation'.*choose which to use with obs_keys"):
        venv.step(np.zeros(1, int))
    env = RewardModelWrapper(make_env(0, frames=False, dict_obs=True), ObsModel().set_obs_keys(["achieved_goal"]))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="are not among the observation's keys"):
        env.step(0)


@pytest.mark.parametrize("adapter", ["sb3", "single", "vector"])
def test_a_run_of_constant_frames_stops_or_warns_in_every_adapter(adapter):
    """A broken renderer (black frames) stops scoring with one line naming the env; with
    constant_frames="warn" it warns once per env; a drawn env never does."""

    class Black(FrameCounterEnv):
        def render(self):
            return np.zeros((8, 8, 3), np.uint8)

    class Drawn(FrameCounterEnv):
        def render(self):
            return np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)

    def build(mode):
        if adapter == "sb3":
            envs = [lambda: FrameInInfo(Drawn(length=3)), lambda: FrameInInfo(Black(length=3))]
            venv = VecRewardModelWrapper(DummyVecEnv(envs), FrameModel(), constant_frames=mode)
            venv.reset()
            return lambda: venv.step(np.zeros(2, int))
        if adapter == "single":
            env = RewardModelWrapper(Black(length=3, render_mode="rgb_array"), FrameModel(), constant_frames=mode)
            env.reset(seed=0)

            def step():
                *_, term, trunc, _ = env.step(0)
                if term or trunc:
                    env.reset()

            return step
        vec = gym.vector.SyncVectorEnv([lambda: FrameInInfo(Drawn(length=3)), lambda: FrameInInfo(Black(length=3))])
        wrapped = VectorRewardModelWrapper(vec, FrameModel(), constant_frames=mode)
        wrapped.reset(seed=0)
        return lambda: wrapped.step(np.zeros(2, int))

    black_env = "env 0" if adapter == "single" else "env 1"
    step = build("error")
    for _ in range(CONSTANT_RUN - 2):  # a few flat frames are not a broken renderer yet
        step()
    with pytest.raises(ConstantFrameError, match=f"{black_env} handed reward model") as e:
        for _ in range(4):
            step()
    assert "\n" not in str(e.value) and "subprocess=True" in str(e.value)
    step = build("warn")
    with pytest.warns(ConstantFrameWarning) as record:
        for _ in range(3 * CONSTANT_RUN):
            step()
    messages = [str(w.message) for w in record if issubclass(w.category, ConstantFrameWarning)]
    assert len(messages) == 1 and black_env in messages[0]  # once, and never the drawn env
