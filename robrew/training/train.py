"""One training run, readable top to bottom: task -> env -> renderer -> reward model ->
reward wrapper -> SB3 learner, with checkpoints, ground-truth evaluation and resume.

Why one module of ~650 lines: it is the run's single path, read in order (validate, build,
learn, record), and its parts share one config and one run directory; the learner itself, the
run format and the reward refitting live elsewhere (``robrew.runs``, ``robrew.agents``,
``robrew.training.refit``).

Example:
    >>> from robrew.runs import TrainConfig, TaskConfig, AlgoConfig
    >>> from robrew.rewards.factory import RewardConfig
    >>> cfg = TrainConfig(task=TaskConfig("tabletop_reach"), reward=RewardConfig(), algo=AlgoConfig(),
    ...                   total_timesteps=2048)
    >>> metrics = train(cfg, Path("runs/example"))
"""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from robrew.io import write_json_atomic
from robrew.rewards.base import RewardModel
from robrew.rewards.factory import Composition, RewardConfigError, build_reward_model, reward_record
from robrew.runs import (
    BASE_POLICY_RECORD,
    RESOLVED_FILE,
    ConfigError,
    Pretrain,
    RunLock,
    TrainConfig,
    algo_params,
    base_policy_record,
    build_learner,
    check_base_policy_unchanged,
    env_observation_fn,
    finetune_config,
    latest_checkpoint,
    load_base_policy,
    load_learner,
    load_run_config,
    make_run_env,
    off_policy_settings,
    policy_fn,
    policy_name,
    refitted_reward_model,
    resolve_normalize,
    resolve_task,
    restore_normalizer,
    save_checkpoint,
    save_run_config,
)
from robrew.taskspec import TaskSpec
from robrew.training.checkpoints import CheckpointCallback

__all__ = [
    "ConfigError",
    "GroundTruthEvalCallback",
    "dump",
    "load_run_config",
    "make_train_env",
    "train",
    "validate",
]


# ---- building blocks ---------------------------------------------------------------------


def validate(cfg: TrainConfig, spec: TaskSpec, model: RewardModel | None) -> None:
    """Checks that can fail before any training; raises :class:`ConfigError` with one line."""
    for name in ("total_timesteps", "n_envs", "checkpoint_every", "eval_every"):
        if getattr(cfg, name) <= 0:
            raise ConfigError(f"{name} must be positive, got {getattr(cfg, name)}")
    if cfg.eval_episodes < 0:
        raise ConfigError(f"eval_episodes must be >= 0, got {cfg.eval_episodes}")
    algo_params(cfg.algo, spec.tags)  # a parameter of the other algorithm fails here
    from robrew.taskspec import TaskSpecError

    try:
        probe = make_run_env(spec, cfg)  # an env (or base policy) that does not fit fails here, in one line
    except TaskSpecError as e:
        raise ConfigError(str(e)) from None
    modes = probe.metadata.get("render_modes", [])
    dict_obs = isinstance(probe.observation_space, gym.spaces.Dict)
    try:
        check_reward_reads(cfg, spec, model, probe)
    finally:
        probe.close()
    if dict_obs and cfg.normalize:
        raise ConfigError("normalize=true is not supported with Dict observations yet; drop it")
    off = off_policy_settings(cfg.algo)  # demos, HER, pretraining: the settings of off-policy learners
    if dict_obs and off and off.demos:
        raise ConfigError(
            "algo.demos is not supported with Dict observations yet (demo replay is an array buffer): wrap the "
            "env in gymnasium's FlattenObservation, or pretrain with robrew-rabc's BC / RA-BC, which read Dict demos"
        )
    if cfg.algo.residual.hard_starts.probability > 0 and not cfg.algo.base_policy:
        raise ConfigError(
            "algo.residual.hard_starts start episodes where a base policy fails: fine-tune one "
            "(finetune=<robrew-rabc dir>) or set algo.residual.hard_starts.probability=0"
        )
    if off and off.pretrain != Pretrain.none and not off.demos:
        raise ConfigError(f"algo.pretrain={off.pretrain} clones demonstrations: set algo.demos=<dataset dir>")
    if off and off.pretrain == Pretrain.rabc and (model is None or model.name != "progress"):
        raise ConfigError("algo.pretrain=rabc weights the demos by progress gain: use reward.name=progress")
    if off and off.her:
        starts = algo_params(cfg.algo, spec.tags).get("learning_starts", 100)  # SB3's default
        if starts < spec.horizon * cfg.n_envs:
            raise ConfigError(
                f"algo.her=true relabels finished episodes, and none has ended after algo.params.learning_starts="
                f"{starts} steps ({cfg.n_envs} envs x horizon {spec.horizon}): set it to at least "
                f"{spec.horizon * cfg.n_envs}"
            )
    if off and off.her and cfg.reward.name != "env":
        raise ConfigError(
            "algo.her=true relabels goals with the env's own compute_reward; a reward model would have to be "
            f"goal-conditioned to be relabelled too (reward '{cfg.reward.name}' is not): use reward=env"
        )
    if model is not None and model.needs_frames:
        if "rgb_array" not in modes:
            raise ConfigError(
                f"reward '{cfg.reward.name}' needs frames but env {spec.env_id} has no rgb_array renderer "
                f"(render modes: {modes}); use a state-based reward or an env that renders"
            )


def check_reward_reads(cfg: TrainConfig, spec: TaskSpec, model: RewardModel | None, env: gym.Env) -> None:
    """A state reward model scores the env's first observation, before anything trains: a model
    trained on another observation layout (Dict vs flat, other keys, another width) is one line."""
    if model is None or not model.needs_obs or model.needs_frames:
        return
    obs, _ = env.reset(seed=cfg.seed)
    cut = env_observation_fn(cfg)
    obs = cut(obs) if cut is not None else obs
    batch = {k: np.asarray(v)[None] for k, v in obs.items()} if isinstance(obs, dict) else np.asarray(obs)[None]
    try:
        flat = model.flatten_obs(batch)
        window = int(getattr(model, "window", 1))
        model.score(obs=np.repeat(flat[:, None], window, axis=1) if window > 1 else flat)
    except ValueError as e:
        raise ConfigError(f"reward '{cfg.reward.name}' cannot score {spec.name}'s observations: {e}") from None


def _worker_env(spec: TaskSpec, cfg: TrainConfig, render: bool, hard_starts: tuple[tuple[int, int], ...] = ()):
    """Builds one env (starting episodes on the ``(seed, hand-over step)`` pairs of ``hard_starts``
    as ``algo.residual.hard_starts`` says, when given); in a SubprocVecEnv worker it first makes
    the worker ignore SIGINT/SIGTERM, so Ctrl-C or a SIGTERM to the process group (SLURM) reaches
    only the main process, which saves a checkpoint and then closes the workers."""
    import multiprocessing
    import signal

    if multiprocessing.parent_process() is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    env = make_run_env(spec, cfg, render, residual=False)  # the residual wraps the whole VecEnv
    if hard_starts:
        from robrew.training.hard_starts import HardStarts, base_replay

        seeds, steps = (list(x) for x in zip(*hard_starts))
        replay = base_replay(cfg) if any(steps) else None
        env = HardStarts(env, seeds, cfg.algo.residual.hard_starts.probability, steps if replay else None, replay)
    return env


def reward_composition(cfg: TrainConfig, spec: TaskSpec):
    """The run's reward composition; potential shaping uses the learner's own γ, which leaves the
    optimal policy unchanged."""
    from robrew.wrappers import RewardComposition

    r = cfg.reward
    return RewardComposition(
        r.composition, r.env_weight, r.model_weight, gamma=algo_params(cfg.algo, spec.tags)["gamma"]
    )


def load_demo_transitions(cfg: TrainConfig, spec: TaskSpec, model: RewardModel | None):
    """``cfg.algo.demos`` as replay transitions rewarded like online steps (or None without demos)."""
    off = off_policy_settings(cfg.algo)
    if off is None or not off.demos:
        return None
    from robrew.agents.demo_replay import demo_transitions
    from robrew.data.demos import DatasetError, load_demos

    try:
        check_demo_rewards(cfg, spec, model)  # before the whole dataset is read
        demos = load_demos(off.demos)
        return demo_transitions(demos, model, reward_composition(cfg, spec) if model is not None else None)
    except (DatasetError, ValueError) as e:
        raise ConfigError(f"algo.demos: {e}") from None


def check_demo_rewards(cfg: TrainConfig, spec: TaskSpec, model: RewardModel | None) -> None:
    """Demo transitions keep the env reward recorded with them; it must be this run's env reward
    (a dense-reward dataset in a sparse-reward run would pay the demos what online steps never
    get). Raises ``ValueError`` when the dataset records another env or env settings; a dataset
    that records none (an import, an env without a spec) gets a one-line warning; a reward that
    ignores the env's is let through."""
    from robrew.data.demos import dataset_env, recorded_env

    if model is not None and cfg.reward.composition == Composition.replace:
        return  # the env reward is not part of the reward
    demos = off_policy_settings(cfg.algo).demos
    recorded, here = dataset_env(demos), recorded_env(spec)
    if recorded is None:
        print(
            f"warning: algo.demos={demos} does not record the env its rewards came from, so they cannot "
            f"be checked against {here['id']}'s: they are replayed as they are",
            file=sys.stderr,
            flush=True,
        )
    elif recorded != here:
        raise ValueError(
            f"the demos' rewards were recorded in {recorded['id']} with env_kwargs {recorded['kwargs']}, but this "
            f"run's env is {here['id']} with {here['kwargs']}: record the demos with this task "
            f"(robrew.data.collect.collect_demos accepts its task file) or use reward.composition=replace"
        )


def _pretrain(cfg: TrainConfig, model, reward_model: RewardModel | None) -> dict:
    """Clones the demos into the SAC actor (``algo.pretrain``): plain BC, or RA-BC weights from the
    run's progress reward model."""
    from robrew.data.demos import load_demos
    from robrew.training.bc import BCConfig, Weighting, sample_weights
    from robrew.training.pretrain import pretrain_actor

    off = off_policy_settings(cfg.algo)
    demos = load_demos(off.demos)
    weights = None
    if off.pretrain == Pretrain.rabc:
        weights = sample_weights(demos, BCConfig(weighting=Weighting.rabc), reward_model)
    return pretrain_actor(model, demos, weights, steps=off.pretrain_steps, seed=cfg.seed)


def make_train_env(
    spec: TaskSpec, cfg: TrainConfig, model: RewardModel | None, hard_starts: tuple[tuple[int, int], ...] = ()
):
    """Returns (training VecEnv, its VecNormalize or None); ``hard_starts``: the (layout seed,
    hand-over step) pairs hard starts start on (:mod:`robrew.training.hard_starts`)."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

    from robrew.wrappers import FrameInInfo, VecRewardModelWrapper

    needs_frames = model is not None and model.needs_frames
    venv = make_vec_env(
        partial(_worker_env, spec, cfg, needs_frames, tuple(hard_starts)),
        n_envs=cfg.n_envs,
        seed=cfg.seed,
        vec_env_cls=SubprocVecEnv if cfg.subprocess else DummyVecEnv,
        wrapper_class=FrameInInfo if needs_frames else None,
    )
    gamma = algo_params(cfg.algo, spec.tags)["gamma"]
    if model is not None:
        venv = VecRewardModelWrapper(
            venv, model, reward_composition(cfg, spec), success_threshold=cfg.reward.success_threshold
        )
    base = load_base_policy(cfg)
    if base is not None:  # inside VecNormalize: the base policy reads raw observations
        from robrew.agents.residual import VecResidualAction

        venv = VecResidualAction(venv, base, cfg.algo.residual, seed=cfg.seed)
    norm = None
    if resolve_normalize(cfg, spec.tags).normalize:
        venv = norm = VecNormalize(venv, norm_obs=True, norm_reward=True, gamma=gamma)
    return venv, norm


# ---- ground-truth evaluation during training --------------------------------------------


class GroundTruthEvalCallback(BaseCallback):
    """Every ``every`` steps, runs ``episodes`` deterministic episodes and logs the
    env's ground truth (``eval/true_success_rate``, ``eval/env_return``) to TensorBoard
    and to ``curve.csv`` in the run directory. With a reward model it also logs the
    proxy (``eval/model_return``, model reward per episode) and warns once when the proxy
    keeps rising while success falls (:class:`robrew.metrics.overoptimisation.OverOptimisationWatch`).
    With ``reward.refit`` the proxy is the checkpoint's model as the user gave it (the refitted one
    moves from round to round; its own scores are in ``refit.csv``)."""

    def __init__(
        self,
        env_fn: Callable[[bool], gym.Env],
        run_dir: Path,
        every: int,
        episodes: int,
        seed: int,
        vec_normalize=None,
        reward_model: RewardModel | None = None,
        model_obs: Callable | None = None,
    ):
        from robrew.metrics.overoptimisation import OverOptimisationWatch

        super().__init__()
        self.env_fn, self.csv, self.every, self.episodes = env_fn, run_dir / "curve.csv", int(every), int(episodes)
        self.seed, self.vec_normalize, self.reward_model = seed, vec_normalize, reward_model
        self.model_obs = model_obs
        self.watch = OverOptimisationWatch()
        self._last = 0
        self.latest: dict = {}

    def _on_training_start(self) -> None:
        self._last = self.model.num_timesteps // self.every * self.every  # a resumed run keeps the schedule
        if self.reward_model is not None and self.csv.is_file():  # a resumed run's watch sees its whole history
            import csv

            with self.csv.open() as f:
                for row in csv.DictReader(f):
                    self.watch.proxy.append(float(row["model_return"]))
                    self.watch.success.append(float(row["success_rate"]))

    def evaluate(self) -> dict:
        """Runs the ground-truth evaluation now; logs it, appends to curve.csv, returns the result dict."""
        from robrew.metrics.rollouts import run_episodes, success_rate

        if self.episodes == 0:
            return {}
        model = self.reward_model
        eps = run_episodes(
            self.env_fn,
            policy_fn(self.model, self.vec_normalize),
            self.episodes,
            self.seed,
            reward_model=model,
            model_obs=self.model_obs,
        )
        result = {
            "timesteps": int(self.model.num_timesteps),
            "success_rate": success_rate([e.success for e in eps]),
            "env_return": float(np.mean([e.env_return for e in eps])),
            "model_return": float(np.mean([e.model_return for e in eps])) if model is not None else float("nan"),
        }
        self.logger.record("eval/true_success_rate", result["success_rate"]["mean"])
        self.logger.record("eval/env_return", result["env_return"])
        if model is not None:
            self.logger.record("eval/model_return", result["model_return"])
            result["overoptimising"] = self.watch.update(
                result["timesteps"], result["model_return"], result["success_rate"]["mean"]
            )
            result["reward_success_spearman"] = self.watch.spearman
            self.logger.record("eval/reward_success_spearman", result["reward_success_spearman"])
        new = not self.csv.exists()
        with self.csv.open("a") as f:
            if new:
                f.write("timesteps,success_rate,env_return,model_return\n")
            f.write(
                f"{result['timesteps']},{result['success_rate']['mean']},{result['env_return']},{result['model_return']}\n"
            )
        self.latest = result
        return result

    def _on_step(self) -> bool:
        if self.model.num_timesteps - self._last >= self.every:
            self._last = self.model.num_timesteps // self.every * self.every
            self.evaluate()
        return True


# ---- the run -------------------------------------------------------------------------------


def load_refit_demos(cfg: TrainConfig, model: RewardModel | None):
    """The demos ``reward.refit`` trains on (None when it is off); :class:`ConfigError` (one line)
    when the reward cannot be refitted or the dataset cannot be read."""
    from robrew.data.demos import DatasetError, load_demos
    from robrew.training.refit import check_refit, refit_dataset

    try:
        check_refit(cfg.reward, model)
        if cfg.reward.refit.every == 0:
            return None
        return load_demos(refit_dataset(cfg.reward))
    except (DatasetError, ValueError) as e:
        raise ConfigError(str(e)) from None


def resolved_record(cfg: TrainConfig, spec: TaskSpec, model, venv) -> dict:
    """What the run trains with after every default is filled in (``resolved.json``): the SB3
    class and policy class, the hyperparameters (family defaults applied), normalisation, the
    observation layout the learner reads."""
    space = venv.observation_space
    return {
        "task": spec.name,
        "env_id": spec.env_id,
        "learner": type(model).__name__,
        "policy": type(model.policy).__name__,
        "algo_params": json.loads(json.dumps(algo_params(cfg.algo, spec.tags), default=str)),
        "normalize": bool(cfg.normalize),
        "observation_keys": sorted(space.spaces) if isinstance(space, gym.spaces.Dict) else None,
        "observation_shape": None if isinstance(space, gym.spaces.Dict) else list(space.shape),
        "n_envs": cfg.n_envs,
    }


def _check_devices(cfg: TrainConfig) -> None:
    """``device`` (policy) and ``reward.device`` name devices this machine has."""
    import torch

    for key, value in (("device", cfg.device), ("reward.device", cfg.reward.device)):
        if value == "auto":
            continue
        try:
            device = torch.device(value)
        except (RuntimeError, ValueError):
            raise ConfigError(f"{key}={value!r} is not a torch device; use cpu, cuda, cuda:N or auto") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"{key}={value!r} but this machine has no CUDA device; use cpu or auto")
        if device.type not in ("cpu", "cuda"):
            raise ConfigError(f"{key}={value!r}: robrew runs on cpu or cuda; use cpu, cuda, cuda:N or auto")


def _check_reward_unchanged(cfg: TrainConfig, run_dir: Path, model: RewardModel | None) -> None:
    """On resume: the reward checkpoint is the one the run started with (sha256 in reward.json)."""
    path = run_dir / "reward.json"
    if not cfg.reward.checkpoint or not path.is_file():
        return
    saved = json.loads(path.read_text()).get("checkpoint_sha256")
    now = reward_record(cfg.reward, model).get("checkpoint_sha256")
    if saved and saved != now:
        from robrew.io import changed_files

        raise ConfigError(
            f"reward checkpoint {cfg.reward.checkpoint} changed since this run started "
            f"({', '.join(changed_files(saved, now))} differ "
            "from reward.json); resuming would optimise a different reward: start a new run"
        )


def _truncate_curve(run_dir: Path, step: int) -> None:
    """Drops curve.csv rows past ``step``: a resumed run replays those steps."""
    from robrew.io import write_text_atomic

    path = run_dir / "curve.csv"
    if not path.is_file():
        return
    lines = path.read_text().splitlines()
    kept = lines[:1] + [row for row in lines[1:] if row and int(float(row.split(",")[0])) <= step]
    if len(kept) != len(lines):
        write_text_atomic(path, "\n".join(kept) + "\n")


def train(cfg: TrainConfig, run_dir: Path) -> dict:
    """Trains (or resumes) one run in ``run_dir``; returns the metrics written to ``metrics.json``.

    Everything that can fail is checked before anything is written: the config, the task, the
    reward model, the devices, the env and the learner's arguments. Then the run directory is
    locked (one writer) and its files are written.

    Raises:
        ConfigError: before training, when the config cannot work, the run directory already
            holds another run, or another process is writing to it.
    """
    run_dir = Path(run_dir)
    lock = RunLock(run_dir)
    if cfg.resume:
        lock.acquire()  # the run exists: nobody else may write while it is read and continued
    try:
        return _train_locked(cfg, run_dir, lock)
    finally:
        lock.release()


def _train_locked(cfg: TrainConfig, run_dir: Path, lock: RunLock) -> dict:
    resumed_from = latest_checkpoint(run_dir) if cfg.resume else None
    if cfg.resume and resumed_from is None:
        raise ConfigError(f"nothing to resume in {run_dir}: no checkpoint yet (checkpoints/latest.json)")
    if not cfg.resume and (run_dir / "config.yaml").is_file():
        raise ConfigError(f"{run_dir} already holds a run; continue it with resume={run_dir} or pick another run_dir")
    from robrew.threads import set_torch_threads

    try:
        set_torch_threads(cfg.torch_threads)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    _check_devices(cfg)
    if cfg.finetune:
        cfg = finetune_config(cfg, cfg.finetune)
    spec = resolve_task(cfg)
    cfg = resolve_normalize(cfg, spec.tags)
    try:
        reward_model = build_reward_model(cfg.reward, spec)
    except RewardConfigError as e:
        raise ConfigError(str(e)) from None
    validate(cfg, spec, reward_model)
    refit_demos = load_refit_demos(cfg, reward_model)
    if cfg.resume:
        _check_reward_unchanged(cfg, run_dir, reward_model)
        check_base_policy_unchanged(cfg, run_dir)
    # A refitted reward moves; the ground-truth watch keeps the checkpoint's model as its fixed yardstick.
    watched = reward_model
    if refit_demos is not None:
        try:  # a resumed run's reward goes on from its last round
            refitted = refitted_reward_model(cfg, run_dir) if cfg.resume else None
        except RewardConfigError as e:
            raise ConfigError(str(e)) from None
        reward_model = refitted if refitted is not None else copy.deepcopy(watched)

    from robrew.training.hard_starts import HARD_STARTS_FILE, hard_start_seeds

    hard = hard_start_seeds(cfg, spec, run_dir)
    pairs = tuple(zip(hard["failed_seeds"], hard["start_steps"])) if hard else ()
    venv, norm = make_train_env(spec, cfg, reward_model, pairs)
    try:
        tb = str(run_dir / "tb")
        if resumed_from is not None:
            if norm is not None:
                restore_normalizer(norm, resumed_from)
            model = load_learner(cfg, resumed_from, venv, tensorboard_log=tb)
        else:
            model = build_learner(cfg, spec, venv, tensorboard_log=tb)
        demos = load_demo_transitions(cfg, spec, reward_model)
        if demos is not None:
            model.replay_buffer.set_demos(demos)
        off = off_policy_settings(cfg.algo)
        if resumed_from is None and off and off.pretrain != Pretrain.none:
            pretrain_report = _pretrain(cfg, model, reward_model)
            print(
                f"actor pretrained ({off.pretrain}): loss {pretrain_report['losses'][0]:.3f} -> "
                f"{pretrain_report['losses'][-1]:.3f}, mean weight {pretrain_report['mean_weight']:.2f}",
                flush=True,
            )
    except ConfigError:
        venv.close()
        raise
    except ValueError as e:  # demos that do not fit this env
        venv.close()
        raise ConfigError(f"algo.demos: {e}") from None
    except BaseException:
        venv.close()
        raise

    # Everything checked: now the run directory is written, by this process only.
    cfg.algo.policy = policy_name(cfg, venv.observation_space)  # config.yaml says what build_learner built
    if not cfg.resume:
        lock.acquire()
        save_run_config(run_dir, cfg)
        write_json_atomic(run_dir / "reward.json", reward_record(cfg.reward, reward_model))
        write_json_atomic(run_dir / RESOLVED_FILE, resolved_record(cfg, spec, model, venv))
        if cfg.algo.base_policy:
            write_json_atomic(run_dir / BASE_POLICY_RECORD, base_policy_record(cfg))
    else:
        _truncate_curve(run_dir, model.num_timesteps)
        print(f"resumed from {resumed_from.name} at step {model.num_timesteps}", flush=True)
    if hard is not None:
        write_json_atomic(run_dir / HARD_STARTS_FILE, hard)
    with (run_dir / "command.txt").open("a") as f:
        f.write(" ".join(sys.argv) + "\n")
    return _learn(cfg, spec, run_dir, model, venv, norm, reward_model, resumed_from, refit_demos, watched)


def _resumed_logger(tb_root: Path, step: int):
    """SB3's logger for a resumed run: TensorBoard in the run's latest ``train_N`` directory, with
    a purge at ``step`` so the steps replayed from the checkpoint replace the ones logged after
    it instead of appearing twice."""
    from stable_baselines3.common.logger import Logger, TensorBoardOutputFormat
    from torch.utils.tensorboard import SummaryWriter

    runs = sorted(
        (p for p in tb_root.glob("train_*") if p.name.split("_")[-1].isdigit()),
        key=lambda p: int(p.name.split("_")[-1]),
    )
    folder = str(runs[-1] if runs else tb_root / "train_1")
    fmt = TensorBoardOutputFormat(folder)
    fmt.writer.close()
    fmt.writer = SummaryWriter(log_dir=folder, purge_step=step)
    return Logger(folder=folder, output_formats=[fmt])


def _learn(cfg, spec, run_dir, model, venv, norm, reward_model, resumed_from, refit_demos, watched) -> dict:
    from robrew.training.hard_starts import HardStartLogging
    from robrew.training.pretrain import ActorWarmup
    from robrew.training.refit import RewardRefitCallback
    from robrew.wrappers import RewardLoggingCallback

    ckpt = CheckpointCallback(run_dir, cfg.checkpoint_every, norm)
    gt_eval = GroundTruthEvalCallback(
        partial(make_run_env, spec, cfg),
        run_dir,
        cfg.eval_every,
        cfg.eval_episodes,
        seed=10_000 + cfg.seed,
        vec_normalize=norm,
        reward_model=watched,
        model_obs=env_observation_fn(cfg),
    )
    from stable_baselines3.common.vec_env import unwrap_vec_wrapper

    from robrew.agents.residual import VecResidualAction

    residual = unwrap_vec_wrapper(venv, VecResidualAction)
    hold = residual.cfg.hold if residual is not None else 1  # env steps per learner step
    if residual is not None:  # progressive exploration resumes where it was (its clock counts env steps)
        residual.num_timesteps = model.num_timesteps * hold
    remaining = cfg.total_timesteps - model.num_timesteps
    if remaining <= 0 and (run_dir / "metrics.json").is_file():  # finished: its final evaluation stands
        venv.close()
        print(f"already at step {model.num_timesteps} of total_timesteps={cfg.total_timesteps}: nothing to train")
        return json.loads((run_dir / "metrics.json").read_text())
    start, start_steps = time.perf_counter(), model.num_timesteps
    if resumed_from is not None and remaining > 0:
        model.set_logger(_resumed_logger(run_dir / "tb", model.num_timesteps))
    try:
        if remaining > 0:
            callbacks = [RewardLoggingCallback(), gt_eval, ckpt]
            off = off_policy_settings(cfg.algo)
            if off and off.actor_warmup > 0:
                callbacks.append(ActorWarmup(off.actor_warmup))
            if cfg.algo.residual.hard_starts.probability > 0:
                callbacks.append(HardStartLogging())
            if refit_demos is not None:
                callbacks.append(
                    RewardRefitCallback(
                        cfg.reward, reward_model, refit_demos, run_dir, norm, gt_eval.model_obs, cfg.seed
                    )
                )
            model.learn(
                total_timesteps=remaining,
                callback=callbacks,
                progress_bar=cfg.progress_bar,
                reset_num_timesteps=resumed_from is None,
                tb_log_name="train",
            )
        else:
            from stable_baselines3.common.logger import Logger

            print(f"already at step {model.num_timesteps} of total_timesteps={cfg.total_timesteps}: nothing to train")
            model.set_logger(Logger(folder=None, output_formats=[]))  # learn() never ran: nothing to log to
            gt_eval.init_callback(model)
        wall = time.perf_counter() - start
        save_checkpoint(run_dir, model, norm)
    finally:
        venv.close()
    if ckpt.stopped_by_signal:
        print(
            f"stopped by signal at step {model.num_timesteps}; checkpoint saved. Resume with resume={run_dir}",
            flush=True,
        )
        return {"num_timesteps": int(model.num_timesteps), "stopped_by_signal": True}

    if not cfg.eval_episodes:
        final = {}
    elif gt_eval.latest.get("timesteps") == model.num_timesteps:
        final = gt_eval.latest  # the scheduled evaluation just ran at this very step
    else:
        final = gt_eval.evaluate()
    metrics = {
        "task": spec.name,
        "algo": str(cfg.algo.name),
        "reward": cfg.reward.name,
        "seed": cfg.seed,
        "num_timesteps": int(model.num_timesteps),
        "resumed_from_step": int(start_steps) if resumed_from is not None else None,
        "wall_time_s": wall,
        "env_steps": int(model.num_timesteps) * hold,  # num_timesteps counts learner steps
        "env_steps_per_s": (model.num_timesteps - start_steps) * hold / wall if wall > 0 else None,
        "final_eval": final,
    }
    write_json_atomic(run_dir / "metrics.json", metrics)
    return metrics


def dump(metrics: dict) -> str:
    """One-line summary for the console."""
    final = metrics.get("final_eval") or {}
    sr = final.get("success_rate", {})
    if not sr:
        return json.dumps(metrics)
    return (
        f"{metrics['task']} {metrics['algo']} reward={metrics['reward']} steps={metrics['num_timesteps']}: "
        f"true success {sr['mean']:.0%} [{sr['low']:.0%}, {sr['high']:.0%}] over {sr['n']} episodes, "
        f"env return {final['env_return']:.1f}"
    )
