"""Record scripted-expert demonstrations of a tabletop task, with subtask annotations.

Per step (Minari infos): ``subtask`` (the expert's annotated subtask of that frame),
``stage`` (the env's ground-truth stage), ``is_success`` and, with ``frames``, ``frame`` (uint8,
at the model's resolution). Frame t is the observation after t actions; frame 0 is the reset.
Per episode (``robrew_annotations.json``): instruction, subtask names, quality knobs, success,
and ``off_task_from``: the first frame of a deliberate failure (the expert heading for the wrong
pad or block), or null.

Episode i always uses env seed ``seed + i`` and expert seed ``seed + i``, so episodes can be
recorded by several processes (``workers``) and the dataset is the same, array for array,
whatever their number; the writer (:mod:`robrew.data.writer`) stores them in episode order.

Example:
    >>> root = collect_demos("tabletop_pick_place", "data", episodes=30, mix=DEFAULT_MIX, seed=0, workers=2)
    >>> demos = load_demos(root)
    >>> demos[0].subtask[:5], demos[0].instruction
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from robrew.data.writer import (
    EXPLORE,
    DatasetError,
    dataset_target,
    episode_plan,
    interrupt_between_steps,
    record_episode,
    recorded_env,
    write_dataset,
)
from robrew.envs.tabletop.expert import ExpertConfig, ScriptedExpert

__all__ = ["DEFAULT_MIX", "EXPLORE", "collect_demos", "dataset_id", "mix_with_exploration"]

#: Mixed-quality demonstrations: about a third clean, a third sloppy, a third failing.
DEFAULT_MIX: dict[str, tuple[float, ExpertConfig]] = {
    "clean": (1 / 3, ExpertConfig()),
    "sloppy": (1 / 3, ExpertConfig(noise=0.35, hesitation=0.6, regrasp=0.5)),
    "failing": (1 / 3, ExpertConfig(noise=0.1, fail=1.0)),
}

EPISODES_PER_JOB = 8  # episodes one worker records before handing them to the writer


def dataset_id(task: str) -> str:
    """Minari id of a task's demonstrations: ``robrew/<task>/expert-mixed-v0``."""
    return f"robrew/{task}/expert-mixed-v0"


def mix_with_exploration(
    fraction: float, mix: dict[str, tuple[float, ExpertConfig]] | None = None
) -> dict[str, tuple[float, ExpertConfig]]:
    """``mix`` (default :data:`DEFAULT_MIX`) scaled to ``1 - fraction``, plus ``fraction`` of
    exploration episodes (random waypoints, annotated as no progress; see ``ExpertConfig.explore``)
    under the quality name :data:`EXPLORE`. Returns a new mix for :func:`collect_demos`;
    raises ``ValueError`` unless ``0 <= fraction < 1``.

    Example:
        >>> sorted(mix_with_exploration(0.25))
        ['clean', 'explore', 'failing', 'sloppy']
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"the exploration fraction must be in [0, 1), got {fraction}")
    mix = mix or DEFAULT_MIX
    if fraction == 0:
        return dict(mix)
    total = sum(f for f, _ in mix.values())
    scaled = {name: (f / total * (1.0 - fraction), config) for name, (f, config) in mix.items()}
    return {**scaled, EXPLORE: (fraction, ExpertConfig(explore=1.0))}


def collect_demos(
    task: str,
    out_root: str | os.PathLike,
    episodes: int,
    mix: dict[str, tuple[float, ExpertConfig]] | None = None,
    seed: int = 0,
    image_size: int = 64,
    overwrite: bool = False,
    reset_options: Callable[[int], dict | None] | None = None,
    frames: bool = True,
    workers: int = 1,
) -> Path:
    """Records ``episodes`` expert episodes of a tabletop task into ``out_root``.

    Args:
        task: A tabletop task name (e.g. ``"tabletop_pick_place"``) or task file (its ``name``
            names the dataset; its ``env_kwargs``, e.g. ``reward: sparse``, decide the recorded reward).
        out_root: Minari datasets root; the dataset goes to ``<root>/<dataset_id(task)>``.
        episodes: Number of episodes.
        mix: Quality name -> (fraction, expert config); default :data:`DEFAULT_MIX`.
        seed: Episode i uses env seed ``seed + i`` and expert seed ``seed + i``.
        image_size: Frames are square ``image_size`` pixels (the model's resolution).
        overwrite: Replace an existing dataset of the same id (else it is an error). Either way
            the new dataset is written beside it and swapped in only when complete: a failure
            or Ctrl-C part-way leaves the old dataset as it was.
        reset_options: ``i -> options`` for episode i's ``env.reset`` (e.g. fixed colours
            and phrasing: ``{"block": "red", "pad": "green", "template": 0}``); with ``workers``
            > 1 it must be picklable (a module-level function or a ``functools.partial`` of one).
        frames: Store a rendered frame per step (only frame-reading models need them; without
            them nothing renders, and the observations, annotations and flags are the same).
        workers: Processes that record episodes (1: this process). The dataset is the same
            whatever the number.

    Returns:
        The dataset directory.

    Raises:
        DatasetError: bad arguments, ``out_root`` is a file, the dataset exists without
            ``overwrite``, or the task has no scripted expert; nothing is written then.
    """
    from robrew.taskspec import load_task

    mix = mix or DEFAULT_MIX
    for what, value in (("episodes", episodes), ("image_size", image_size), ("workers", workers)):
        if value <= 0:
            raise DatasetError(f"{what} must be positive, got {value}")
    spec = load_task(task)  # a shipped name or a task file
    target = dataset_target(out_root, dataset_id(spec.name), overwrite)
    job = _Job(task, image_size, frames, episode_plan(mix, episodes, seed), mix, seed, reset_options)
    probe = replace(job, frames=False).make_env()  # spaces and spec for the writer; never renders
    try:
        if not hasattr(probe.unwrapped, "scene_state"):
            raise DatasetError(f"task {spec.name!r} has no scripted expert (only tabletop tasks do)")
        recorded = _record_here(job) if workers == 1 else _record_in_workers(min(workers, episodes), job)
        header = {"task": spec.name, "env": recorded_env(spec)}
        about = f"{spec.name}: mixed-quality scripted demonstrations with subtask annotations"
        return write_dataset(target, recorded, header, probe, algorithm="robrew scripted expert", description=about)
    finally:
        probe.close()


@dataclass(frozen=True)
class _Job:
    """What every episode of one collection needs (picklable: worker processes get a copy)."""

    task: str
    image_size: int
    frames: bool
    plan: list[str]  # the quality of each episode
    mix: dict[str, tuple[float, ExpertConfig]]
    seed: int
    reset_options: Callable[[int], dict | None] | None

    def make_env(self):
        from robrew.env_factory import make_env

        render_mode = "rgb_array" if self.frames else None
        return make_env(self.task, render_mode=render_mode, width=self.image_size, height=self.image_size)

    def episodes(self, indices) -> Iterator[tuple[object, dict]]:
        """Yields ``(episode, annotation record)`` for each index, recorded in an env of its own."""
        env = self.make_env()
        try:
            for i in indices:
                yield self.episode(env, i)
        finally:
            env.close()

    def episode(self, env, i: int) -> tuple[object, dict]:
        """Episode ``i`` by the scripted expert of its quality, and its annotation record."""
        config = self.mix[self.plan[i]][1]
        experts: list[ScriptedExpert] = []

        def annotate(env, obs, info, action) -> dict:
            subtask = experts[0].phases[-1] if (experts and experts[0].phases and action is not None) else 0
            step = {
                "subtask": np.int64(subtask),
                "stage": np.int64(info.get("stage", 0)),
                "is_success": np.bool_(info.get("is_success", False)),
            }
            if self.frames:
                step["frame"] = env.render()
            return step

        def act(obs):
            if not experts:  # made after the reset, which it reads
                experts.append(ScriptedExpert(env, config, seed=self.seed + i))
            return experts[0].act()

        options = self.reset_options(i) if self.reset_options else None
        buffer, _, info = record_episode(env, act, self.seed + i, annotate, options=options)
        u = env.unwrapped
        record = {
            "instruction": u.instruction,
            "subtasks": u.subtasks,
            "quality": self.plan[i],
            "expert": asdict(config),
            "success": bool(info["is_success"]),
            "off_task_from": experts[0].off_task_from(),
            "colors": dict(u.colors),
            "referents": u.referent_slots() if getattr(u, "obs_mode", None) == "objects" else None,
        }
        return buffer, record


def _record_here(job: _Job) -> Iterator[tuple[object, dict]]:
    """Yields every episode of ``job`` in order, recorded in this process (Ctrl-C between episodes)."""
    with interrupt_between_steps() as interrupted:
        for episode in job.episodes(range(len(job.plan))):
            yield episode
            if interrupted():
                raise KeyboardInterrupt


def _record_job(job: _Job, indices: list[int]) -> list[tuple[object, dict]]:
    """A worker's share: the episodes ``indices``."""
    return list(job.episodes(indices))


def _ignore_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops the pool


def _result(future, interrupted: Callable[[], bool]):
    """``future``'s result, waited for in short slices so that Ctrl-C is seen while waiting."""
    while True:
        if interrupted():
            raise KeyboardInterrupt
        try:
            return future.result(timeout=0.2)
        except TimeoutError:
            pass


def _record_in_workers(workers: int, job: _Job) -> Iterator[tuple[object, dict]]:
    """Yields every episode in order, recorded by ``workers`` processes in jobs of
    :data:`EPISODES_PER_JOB` episodes (the writer stores a job's episodes while later ones run).

    The workers are spawned, not forked: a fork would copy a parent that has rendered (Mesa's
    threads and GL state), and the child's renderer then hangs. Spawning means the job is pickled
    (``reset_options`` included) and a script that collects with workers runs under
    ``if __name__ == "__main__":``.
    """
    import multiprocessing
    import pickle
    from concurrent.futures.process import BrokenProcessPool

    try:
        pickle.dumps(job)
    except (pickle.PicklingError, AttributeError, TypeError) as e:
        raise DatasetError(
            f"collecting with workers > 1 sends the job to other processes, and it cannot be pickled ({e}): "
            "make reset_options a module-level function (or a partial of one), or use workers=1"
        ) from None
    n = len(job.plan)
    shares = [list(range(s, min(s + EPISODES_PER_JOB, n))) for s in range(0, n, EPISODES_PER_JOB)]
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_sigint)
    try:
        futures = [pool.submit(_record_job, job, share) for share in shares]
        # Ctrl-C is seen here even where this process started with SIGINT ignored (a background job)
        with interrupt_between_steps() as interrupted:
            for future in futures:
                yield from _result(future, interrupted)
    except BrokenProcessPool:
        raise DatasetError(
            "a collection worker died before it could record (run from a script? put the script's code under "
            "`if __name__ == '__main__':`, or pass workers=1); its error is printed above"
        ) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
