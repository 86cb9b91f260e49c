"""Train a stage-aware progress model on annotated demonstrations, and measure it.

Why one module of ~600 lines: labelling, the inferred departures of unmarked failures, the
training loop and the held-out report all read the same labelled batches; the label rules
themselves are ``robrew.data.labels`` and the model ``robrew.rewards.progress``.

Labels come from the annotations through the dataset prior (``robrew.data.labels``),
computed on successful demonstrations. Failed demonstrations train the model too when the
demonstrator marked where they went wrong (``off_task_from``): from there on they are
labelled "no progress", which teaches the model that heading for the wrong goal is not
progress (RA-BC relies on that). Failed demos without that mark (datasets with episode-level
success flags only) are used too (``infer_departures``): each one's departure is the earliest of
where its progress peaked (by a model trained on the rest for half the steps), where it overran a
subtask's usual time, and where a cross-fitted success classifier gives up on it
(``outcome_classifier``, ``robrew.training.outcome``); from there on it is labelled as undoing work.
Loss: cross-entropy on the stage + MSE on the within-stage progress τ, with the progress head
conditioned on the true stage for a ``teacher_forcing`` fraction of each batch and on the
predicted stage otherwise.

Example:
    >>> demos = load_demos("data/robrew/tabletop_pick_place/expert-mixed-v0")
    >>> model, report = fit_progress_model(demos, ProgressTrainConfig(steps=2000))
    >>> report["voc_clean"], report["success_auc"]
    >>> ensemble, report = fit_progress(demos, ProgressTrainConfig(members=5))   # bootstrapped, pessimistic
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from robrew.data.demos import EXPLORE, Demo, flat_demos, require_frames
from robrew.data.labels import active_spans, dataset_prior, episode_labels, spans_from_steps, stage_frames
from robrew.metrics.reward import progress_mae, stage_accuracy, success_auc, voc
from robrew.rewards.base import RewardModel
from robrew.rewards.obs_stats import keep_only, obs_statistics, parse_ranges
from robrew.rewards.progress import ProgressReward
from robrew.rewards.progress.parts import OBS_ENCODERS, Encoder, Fusion, TextEncoder
from robrew.training.outcome import outcome_departures, smooth


@dataclass
class ProgressTrainConfig:
    """Progress-model training settings."""

    encoder: Encoder = Encoder.state
    text: TextEncoder = TextEncoder.hash
    fusion: Fusion = Fusion.concat  # instruction fusion
    proprio_dim: int | None = None  # encoder="slots": leading non-slot observation values (gripper xyz first)
    slot_dim: int = 4  # encoder="slots": values per object slot [present, x, y, z, ...]
    pointer_loss: float = 1.0  # encoder="slots": weight of the grounding loss on the demos' annotated referent slots
    steps: int = 2000  # optimiser steps
    batch_size: int = 256  # frames per step
    lr: float = 1e-3  # AdamW learning rate
    weight_decay: float = 1e-5  # AdamW weight decay
    teacher_forcing: float = 0.5  # fraction of rows whose progress head sees the true stage
    val_fraction: float = 0.25  # held-out episodes for the report (VOC, AUC, stage accuracy)
    hidden: int = 256  # width of the trunk
    clip_model: str = "ViT-B-32"  # encoder="clip" / text="clip"
    clip_pretrained: str | None = None  # open_clip tag, checkpoint file or local directory
    window: int = 1  # frames per input: episode start, evenly spaced past frames, now
    rewind: float = 0.0  # fraction of each batch made of rewound clips (window > 1)
    max_rewind: int = 15  # frames played backwards at most
    mismatch: float = 0.0  # fraction of rows given another episode's instruction (other block): label "no progress"
    shift: int = 0  # frame encoders: random translation by up to this many pixels (DrQ-style augmentation)
    infer_departures: bool = True  # failed demos without off_task_from: infer where they went wrong, train on them
    outcome_classifier: bool = True  # infer_departures: also where a cross-fitted success classifier gives up
    obs_keys: list[str] | None = None  # Dict observations: keys the model reads, in order (default: all, sorted)
    obs_ranges: str | None = None  # state encoders: read only these observation values, "start:stop[,...]"
    consistency: float = 4.0  # weight of the stage head's agreement on consecutive frames of one stage
    members: int = 1  # > 1: an ensemble, each member on a bootstrap resample of the training episodes
    disagreement: float = 1.0  # members > 1: the ensemble scores mean - disagreement * std of the members
    seed: int = 0  # seeds the split, the model and the batches
    device: str = "cpu"  # cpu, cuda, cuda:1 or auto


def split_demos(demos: list[Demo], val_fraction: float, seed: int) -> tuple[list[Demo], list[Demo]]:
    """Random episode-level split (train, held-out)."""
    idx = np.random.default_rng(seed).permutation(len(demos))
    n_val = max(1, int(round(val_fraction * len(demos))))
    return [demos[i] for i in idx[n_val:]], [demos[i] for i in idx[:n_val]]


def label_demos(demos: list[Demo], prior: np.ndarray, frames_per_stage: np.ndarray | None = None) -> list:
    """Labels per demo; frames after the first success are labelled complete (progress 1),
    frames after a marked mistake undo the progress made before it (which grows at the usual
    pace of the interrupted subtask, given ``frames_per_stage``; see :func:`episode_labels`)."""
    return [episode_labels(d.subtask, prior, d.done_at, d.off_task_from, frames_per_stage) for d in demos]


def trainable_demos(demos: list[Demo]) -> list[Demo]:
    """Successful demos, and failed ones whose mistake is annotated (``off_task_from``)."""
    return [d for d in demos if d.success or d.off_task_from is not None]


def _inputs(model: ProgressReward, demos: list[Demo]):
    obs = np.concatenate([d.observations for d in demos]) if model.needs_obs else None
    frames = np.concatenate([d.frames for d in demos]) if model.needs_frames else None
    instructions = [d.instruction for d in demos for _ in range(len(d.subtask))]
    return obs, frames, instructions


def fit_progress(demos: list[Demo], cfg: ProgressTrainConfig) -> tuple[RewardModel, dict]:
    """The model ``cfg`` asks for: one progress model (``members == 1``), or a bootstrapped
    ensemble scored ``mean - disagreement * std`` (``mode="pessimistic"``): each member trains on a
    resample (with replacement) of the training episodes from its own initialisation, so members
    agree where the demos are dense and disagree where they never went, the states an RL policy
    finds when it exploits a single model. All members share one held-out split.

    The ensemble's report has each member's report (``members``), the ensemble's own
    :func:`score_metrics` on the held-out episodes, and ``held_out_disagreement``: the members'
    mean standard deviation on the held-out demos' frames (compare it with a policy's states').

    Example:
        >>> model, report = fit_progress(demos, ProgressTrainConfig(members=5, disagreement=1.0))
        >>> model.disagreement(obs=obs, instructions=instruction)   # float32 [B] member std
    """
    if cfg.members < 1:
        raise ValueError(f"members must be >= 1, got {cfg.members}")
    if cfg.members == 1:
        return fit_progress_model(demos, cfg)
    from robrew.rewards.ensemble import EnsembleReward

    fitted = [fit_progress_model(demos, cfg, member=i) for i in range(cfg.members)]
    model = EnsembleReward([m for m, _ in fitted], mode="pessimistic", lam=cfg.disagreement, device=cfg.device)
    flat, _ = flat_demos(demos, cfg.obs_keys)
    _, held_out = split_demos(flat, cfg.val_fraction, cfg.seed)
    report = {"config": asdict(cfg), "members": [r for _, r in fitted], "losses": fitted[0][1]["losses"]}
    report.update(score_metrics(model, held_out))
    good = [d for d in held_out if d.success]
    if good and model.window == 1:
        spread = [
            model.disagreement(
                d.frames if model.needs_frames else None, d.observations if model.needs_obs else None, d.instruction
            ).mean()
            for d in good
        ]
        report["held_out_disagreement"] = float(np.mean(spread))
    return model.eval(), report


def fit_progress_model(
    demos: list[Demo], cfg: ProgressTrainConfig, member: int | None = None
) -> tuple[ProgressReward, dict]:
    """Trains on the successful training demos; returns the model and a metrics report.

    The report has the loss curve (``losses``) and, on held-out episodes: ``voc_clean``
    (successful demos), ``voc_reversed`` (the same demos played backwards),
    ``stage_accuracy``, ``progress_mae`` and ``success_auc`` (final progress, success vs failure,
    exploration episodes left out). ``member=i`` (an ensemble's i-th member, see
    :func:`fit_progress`): train on a bootstrap resample of the training episodes, from an
    initialisation of its own; the held-out split is the same for every member.
    """
    torch.manual_seed(cfg.seed if member is None else cfg.seed * 1000 + 17 * member + 1)
    demos, obs_keys = flat_demos(demos, cfg.obs_keys)  # Dict observations: one vector per step
    read = None  # obs_ranges: the observation values the model reads (a bad selection fails before training)
    if Encoder(cfg.encoder) not in OBS_ENCODERS:
        require_frames(demos, f"a progress model with encoder={cfg.encoder}")
        if cfg.obs_ranges:
            raise ValueError(f"obs_ranges selects observation values; encoder={cfg.encoder} reads frames")
    elif cfg.obs_ranges:
        read = parse_ranges(cfg.obs_ranges, demos[0].observations.shape[1])
    train, held_out = split_demos(demos, cfg.val_fraction, cfg.seed)
    if member is not None:
        pick = np.random.default_rng([cfg.seed, member]).integers(len(train), size=len(train))
        train = [train[i] for i in pick]
    good = [d for d in train if d.success]
    if not good:
        raise ValueError("no successful demonstrations to learn progress from")
    n_stages = len(good[0].subtasks)
    spans = [active_spans(d.subtask, d.done_at) for d in good]
    prior, frames_per_stage = dataset_prior(spans, n_stages), stage_frames(spans, n_stages)
    used = trainable_demos(train)
    labels = label_demos(used, prior, frames_per_stage)
    model = ProgressReward(
        n_stages,
        prior.tolist(),
        encoder=cfg.encoder,
        obs_dim=good[0].observations.shape[1],
        text=cfg.text,
        hidden=cfg.hidden,
        device=cfg.device,
        clip_model=cfg.clip_model,
        clip_pretrained=cfg.clip_pretrained,
        window=cfg.window,
        fusion=cfg.fusion,
        proprio_dim=cfg.proprio_dim,
        slot_dim=cfg.slot_dim,
    )
    model.set_obs_keys(obs_keys)
    # Failed demos without a frame-level mark (real datasets have episode-level flags only): where
    # they left the path of the successful ones is inferred from a model trained on the rest.
    unmarked_at = [i for i, d in enumerate(train) if not d.success and d.off_task_from is None]
    unmarked_at = unmarked_at if cfg.infer_departures else []
    unmarked = [train[i] for i in unmarked_at]
    if model.needs_obs:
        mean, std = obs_statistics(np.concatenate([d.observations for d in used + unmarked]))
        if read is not None:  # the rest of the observation is ignored (normalised to 0)
            std = keep_only(std, read)
        model.set_obs_normalization(mean, std)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed if member is None else [cfg.seed, member, 1])
    first = cfg.steps // 2 if unmarked else cfg.steps
    losses = _fit(model, opt, used, labels, first, cfg, rng)
    departures, outcome = [], [None] * len(unmarked)
    if unmarked:
        model.eval()
        if cfg.outcome_classifier:
            found = outcome_departures(train, unmarked_at, seed=cfg.seed)
            outcome = [found.get(i) for i in unmarked_at]
        departures = [infer_departure(model, d, frames_per_stage, early) for d, early in zip(unmarked, outcome)]
        used = used + [replace(d, off_task_from=f) for d, f in zip(unmarked, departures)]
        labels = label_demos(used, prior, frames_per_stage)
        losses += _fit(model, opt, used, labels, cfg.steps - first, cfg, rng)
    model.eval()
    report = {
        "config": asdict(cfg),
        "prior": prior.tolist(),
        "frames_per_stage": frames_per_stage.tolist(),
        "train_episodes": len(used),
        "train_failed_episodes": len(used) - len(good),
        "inferred_departures": [
            {"quality": d.quality, "off_task_from": f, "outcome_departure": o, "frames": len(d.subtask)}
            for d, f, o in zip(unmarked, departures, outcome)
        ],
        "losses": losses,
    }
    report.update(evaluate_progress_model(model, held_out))
    return model, report


def policy_negatives(segments: list[np.ndarray], instruction: str, n_stages: int) -> list[Demo]:
    """A policy's own observation segments (float32 [T, D] each, one episode or part of one) as
    episodes labelled "no progress" from their first frame (``off_task_from=0``): the negatives of
    :func:`refit_progress`."""
    out = []
    for obs in segments:
        n = len(obs)
        zeros = np.zeros(n, dtype=np.int64)
        out.append(
            Demo(
                observations=np.asarray(obs, dtype=np.float32),
                actions=np.zeros((max(n - 1, 0), 0), np.float32),
                rewards=np.zeros(max(n - 1, 0), np.float32),
                frames=None,
                subtask=zeros,
                stage=zeros,
                success=False,
                done_at=None,
                instruction=instruction,
                subtasks=[""] * n_stages,
                quality="policy",
                off_task_from=0,
            )
        )
    return out


def refit_progress(
    model: ProgressReward,
    demos: list[Demo],
    negatives: list[np.ndarray],
    steps: int,
    cfg: ProgressTrainConfig,
    opt: torch.optim.Optimizer | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[list[float], torch.optim.Optimizer]:
    """One adversarial round (GAIL / VICE style): ``steps`` more optimiser steps on ``demos``
    (successful ones, and failed ones with a marked mistake, labelled as in training) plus a
    policy's observation segments ``negatives`` labelled "no progress", so states the optimiser
    drives to and the demos never visit stop paying. Trains ``model`` in place (left in eval mode).

    Only state-reading models (``encoder`` state or slots): a policy's frames are not kept.

    Returns:
        (the losses, the optimiser, to pass back in the next round with the same ``rng``).

    Example:
        >>> losses, opt = refit_progress(model, demos, [policy_obs], steps=200, cfg=ProgressTrainConfig())
    """
    if model.needs_frames or not model.needs_obs:
        raise ValueError("refitting on a policy's states needs a state-reading progress model (encoder state/slots)")
    flat, _ = flat_demos(demos, model.obs_keys)
    good = [d for d in flat if d.success]
    if not good:
        raise ValueError("no successful demonstrations to refit the progress model on")
    n_stages = len(model.prior)
    spans = [active_spans(d.subtask, d.done_at) for d in good]
    prior, frames_per_stage = model.prior.cpu().numpy(), stage_frames(spans, n_stages)
    used = trainable_demos(flat) + policy_negatives(negatives, good[0].instruction, n_stages)
    labels = label_demos(used, prior, frames_per_stage)
    if opt is None:
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = rng if rng is not None else np.random.default_rng(cfg.seed)
    losses = _fit(model, opt, used, labels, steps, cfg, rng)
    model.eval()
    return losses, opt


def _fit(model, opt, used: list[Demo], labels: list, steps: int, cfg: ProgressTrainConfig, rng) -> list[float]:
    """``steps`` optimiser steps on ``used`` with ``labels``; returns the losses."""
    obs, frames, instructions = _inputs(model, used)
    stage = torch.from_numpy(np.concatenate([lab.stage for lab in labels])).to(model.device)
    tau = torch.from_numpy(np.concatenate([lab.tau for lab in labels])).to(model.device)
    obs_t = torch.from_numpy(obs).to(model.device) if obs is not None else None
    frames_t = torch.from_numpy(frames).to(model.device) if frames is not None else None
    n, losses = len(stage), []
    lengths = np.array([len(d.subtask) for d in used])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    t_of = np.concatenate([np.arange(n_) for n_ in lengths])  # frame index within its episode
    start_of = np.repeat(offsets, lengths)  # global index of each frame's episode start
    ep_of = np.repeat(np.arange(len(used)), lengths)
    pool = mismatch_pool(used) if cfg.mismatch > 0 else []
    referents = _referents(model, used, cfg)
    model.train()
    for _ in range(steps):
        target = rng.integers(0, n, size=min(cfg.batch_size, n))
        inputs, target = sample_windows(rng, target, t_of, start_of[target], cfg)
        texts = [instructions[i] for i in target.tolist()]
        no_progress, source = mismatch_instructions(rng, texts, ep_of[target], pool, used, cfg.mismatch)
        idx = torch.from_numpy(target).to(model.device)
        win = torch.from_numpy(inputs).to(model.device)
        batch_frames = random_shift(frames_t[win], cfg.shift, rng) if frames_t is not None else None
        h = model.features(batch_frames, obs_t[win] if obs_t is not None else None, texts)
        y_stage, y_tau = stage[idx].clone(), tau[idx].clone()
        if no_progress.any():  # the instructed task was never worked on: stage 0, τ 0
            mask = torch.from_numpy(no_progress).to(model.device)
            y_stage[mask], y_tau[mask] = 0, 0.0
        logits = model.stage_head(h)
        forced = torch.rand(len(idx), device=model.device) < cfg.teacher_forcing
        cond = torch.where(forced, y_stage, logits.argmax(-1).detach())
        _, tau_logit, _ = model.heads(h, cond)
        loss = F.cross_entropy(logits, y_stage) + F.mse_loss(torch.sigmoid(tau_logit), y_tau)
        if cfg.consistency > 0:
            loss = loss + cfg.consistency * _consistency(
                model, logits, target, stage, t_of, lengths[ep_of], cfg, rng, obs_t, frames_t, texts
            )
        if referents is not None:  # grounding: point at the objects the instruction names (or at "none here")
            w = model.encoder.attention(obs_t[idx], model.embed_instructions(texts, len(texts)))
            ref = pointer_targets(referents, ep_of[target], source, obs_t[idx], model.encoder)
            loss = loss + cfg.pointer_loss * F.nll_loss(torch.log(w + 1e-8).flatten(0, 1), ref.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def _consistency(model, logits, target, stage, t_of, length, cfg, rng, obs_t, frames_t, texts) -> torch.Tensor:
    """Mean squared difference of the stage probabilities of frame t and frame t + 1 of the same
    episode, over the rows whose two frames have the same stage label. Consecutive frames of one
    stage differ by little more than nuisance (a noisy gripper velocity); without this term the
    stage head may key on such a nuisance and flip between distant stages from one frame to the
    next (measured: after completion of sloppy demos, progress jumping between 0.2 and 1.0)."""
    ok = t_of[target] + 1 < length[target]
    nxt = np.where(ok, target + 1, target)
    idx, idx_next = torch.from_numpy(target).to(model.device), torch.from_numpy(nxt).to(model.device)
    same = torch.from_numpy(ok).to(model.device) & (stage[idx] == stage[idx_next])
    if not bool(same.any()):
        return logits.sum() * 0.0
    inputs, _ = sample_windows(rng, nxt, t_of, nxt - t_of[nxt], replace(cfg, rewind=0.0))
    win = torch.from_numpy(inputs).to(model.device)
    h = model.features(
        frames_t[win] if frames_t is not None else None, obs_t[win] if obs_t is not None else None, texts
    )
    p, q = torch.softmax(logits, -1), torch.softmax(model.stage_head(h), -1)
    return ((p - q) ** 2).sum(-1)[same].mean()


def infer_departure(
    model: ProgressReward,
    demo: Demo,
    frames_per_stage: np.ndarray | None = None,
    outcome: int | None = None,
    slack: float = 1.5,
) -> int:
    """Where a failed demo left the path of the successful ones: the earliest of the frame after
    its predicted progress peaked (a model trained without it; smoothed over 5 frames against
    noise), the frame where it had spent ``slack`` times longer in its current subtask than
    successful demos take (``frames_per_stage``: carrying an object the wrong way can look like
    progress to the model, but it overruns the subtask's usual time), and ``outcome``, where a
    success classifier gave up on it (:func:`robrew.training.outcome.outcome_departures`)."""
    p = predict_episode(model, demo)
    candidates = [int(np.argmax(smooth(p))) + 1]
    if outcome is not None:
        candidates.append(outcome)
    if frames_per_stage is not None:
        for span in spans_from_steps(demo.subtask):
            limit = span.start + int(np.ceil(slack * frames_per_stage[span.stage]))
            if span.end > limit:
                candidates.append(limit)
                break
    return min(candidates)


def _referents(model, used: list[Demo], cfg: ProgressTrainConfig) -> torch.Tensor | None:
    """(episodes, n_queries) annotated referent slots, if the slots encoder is trained with grounding."""
    if model.encoder_name != "slots" or cfg.pointer_loss <= 0:
        return None
    if any(d.referents is None for d in used):
        raise ValueError(
            "pointer_loss needs demos with annotated referent slots (collect with an obs='objects' task); "
            "or set pointer_loss=0"
        )
    return torch.tensor([d.referents for d in used], dtype=torch.int64, device=model.device)


def pointer_targets(
    referents: torch.Tensor, episodes: np.ndarray, source: np.ndarray, obs: torch.Tensor, pointer
) -> torch.Tensor:
    """(B, n_queries) slots each row's instruction names: its episode's referents, or for a
    mismatched row (``source >= 0``) the source episode's — the null slot where that object is absent."""
    swapped = source >= 0
    ref = referents[torch.from_numpy(np.where(swapped, source, episodes)).to(referents.device)].clone()
    absent = ~pointer.present(obs).gather(1, ref) & torch.from_numpy(swapped).to(ref.device)[:, None]
    ref[absent] = pointer.n_slots
    return ref


def random_shift(frames: torch.Tensor, shift: int, rng: np.random.Generator) -> torch.Tensor:
    """Translates each sample's frames (..., H, W, 3) by up to ``shift`` pixels (edges replicated)."""
    if shift <= 0:
        return frames
    h, w = frames.shape[-3], frames.shape[-2]
    lead = frames.shape[:-3]
    x = frames.reshape(-1, h, w, 3).permute(0, 3, 1, 2).float()
    x = F.pad(x, (shift, shift, shift, shift), mode="replicate")
    per = int(np.prod(lead[1:])) if len(lead) > 1 else 1  # a window's frames move together
    dy, dx = rng.integers(0, 2 * shift + 1, size=(2, lead[0]))
    out = torch.stack(
        [x[i][:, dy[i // per] : dy[i // per] + h, dx[i // per] : dx[i // per] + w] for i in range(x.shape[0])]
    )
    return out.permute(0, 2, 3, 1).round().to(frames.dtype).reshape(frames.shape)


def mismatch_pool(demos: list[Demo]) -> list[np.ndarray]:
    """Per demo, the demos whose target block differs (their instructions are mismatches)."""
    blocks = [(d.colors or {}).get("block") for d in demos]
    return [
        np.array([j for j, b in enumerate(blocks) if own is not None and b is not None and b != own], dtype=np.int64)
        for own in blocks
    ]


def mismatch_instructions(
    rng: np.random.Generator,
    texts: list[str],
    episodes: np.ndarray,
    pool: list[np.ndarray],
    demos: list[Demo],
    fraction: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Gives a ``fraction`` of rows (in place) the instruction of an episode with another
    target block; returns the mask of those rows (their label becomes "no progress") and,
    per row, the episode whose instruction it got (-1: its own)."""
    mask, source = np.zeros(len(texts), dtype=bool), np.full(len(texts), -1, dtype=np.int64)
    if fraction <= 0:
        return mask, source
    for i in np.flatnonzero(rng.random(len(texts)) < fraction):
        others = pool[episodes[i]]
        if len(others):
            source[i] = others[int(rng.integers(len(others)))]
            texts[i] = demos[source[i]].instruction
            mask[i] = True
    return mask, source


def sample_windows(
    rng: np.random.Generator, target: np.ndarray, t_of: np.ndarray, start: np.ndarray, cfg: ProgressTrainConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Global input indices ((B,) or (B, W) windows) and the global index of each label.

    ``target`` are global frame indices, ``t_of`` their time within the episode, ``start``
    the global index of each target's episode start. A ``cfg.rewind`` fraction of rows is
    rewound: the clip runs to frame t and back k frames; the label is frame t - k's.
    """
    if cfg.window == 1:
        return target, target
    from robrew.rewards.progress.windows import causal_window_indices, rewind_window_indices

    t = t_of[target]
    rows, labels = [], target.copy()
    for i, ti in enumerate(t):
        if ti > 0 and rng.random() < cfg.rewind:
            k = int(rng.integers(1, min(int(ti), cfg.max_rewind) + 1))
            rows.append(rewind_window_indices(int(ti), k, cfg.window))
            labels[i] = start[i] + ti - k
        else:
            rows.append(causal_window_indices(int(ti), cfg.window))
    return start[:, None] + np.stack(rows), labels


def predict_episode(model: RewardModel, demo: Demo, reverse: bool = False, until_done: bool = False) -> np.ndarray:
    """Predicted progress for every frame of ``demo`` (optionally played backwards, and
    optionally only up to the frame where the task is complete)."""
    n = len(demo.subtask) if not until_done or demo.done_at is None else demo.done_at + 1
    order = np.arange(n)[::-1] if reverse else np.arange(n)
    return model.score_episode(  # a window model sees the (reversed) video causally, as it would online
        frames=demo.frames[order] if model.needs_frames else None,
        obs=model.flatten_obs(demo.observations)[order] if model.needs_obs else None,
        instructions=demo.instruction,
    )


def score_metrics(model: RewardModel, demos: list[Demo]) -> dict:
    """What any progress-like reward model is judged by on ``demos`` (its scores only):
    ``held_out_episodes``, ``voc_clean`` / ``voc_reversed`` (clean successful demos, played
    forwards / backwards), ``success_auc`` (final score, success vs failure) and
    ``completed_jitter`` (mean |score(t+1) - score(t)| per step after successful demos complete,
    where the label stays 1: what a potential built on the model pays for nothing).

    VOC is measured while the task is being done: each successful demo up to the frame
    where it completes (after that the scene is static and the label constant at 1).
    """
    return trace_metrics(lambda d, reverse, until_done: predict_episode(model, d, reverse, until_done), demos)


def recorded_reward_metrics(demos: list[Demo]) -> dict:
    """:func:`score_metrics` of the env's own reward as recorded with the demos (a hand-written
    score, e.g. the humanoid's pose score): the yardstick a learned model is compared with. Frame
    0 has no reward of its own; it gets the first step's."""

    def recorded(d: Demo, reverse: bool, until_done: bool) -> np.ndarray:
        trace = np.concatenate([d.rewards[:1], d.rewards]).astype(np.float32)
        n = len(trace) if not until_done or d.done_at is None else d.done_at + 1
        # played backwards, frame t shows the state of frame n-1-t, scored as recorded there
        return trace[:n][::-1] if reverse else trace[:n]

    return trace_metrics(recorded, demos)


def trace_metrics(predict, demos: list[Demo]) -> dict:
    """The metrics of :func:`score_metrics` from ``predict(demo, reverse, until_done)``, a score per frame."""
    good = [d for d in demos if d.success]
    clean = [d for d in good if d.quality == "clean"] or good
    out: dict = {"held_out_episodes": len(demos)}
    if clean:
        out["voc_clean"] = voc([predict(d, False, True) for d in clean])
        out["voc_reversed"] = voc([predict(d, True, True) for d in clean])
    # Exploration episodes never attempt the task; scoring them as failures would flatter the AUC.
    attempts = [d for d in demos if d.quality != EXPLORE]
    finals = [float(predict(d, False, False)[-5:].mean()) for d in attempts]
    out["success_auc"] = success_auc(finals, [d.success for d in attempts])
    done = [d for d in good if d.done_at is not None and d.done_at + 2 < len(d.subtask)]
    if done:  # the label is 1 throughout: every step of the score is noise a potential would pay out
        out["completed_jitter"] = float(
            np.mean([np.abs(np.diff(predict(d, False, False)[d.done_at :])).mean() for d in done])
        )
    return out


def evaluate_progress_model(model: ProgressReward, demos: list[Demo]) -> dict:
    """:func:`score_metrics`, plus stage accuracy and progress MAE (from the model's stage head)."""
    good = [d for d in demos if d.success]
    out = score_metrics(model, demos)
    if good:
        prior = model.prior.cpu().numpy()
        labels = label_demos(good, prior)
        preds, stages = [], []
        with torch.no_grad():
            for d in good:
                preds.append(predict_episode(model, d))
                fr, obs = model.episode_inputs(
                    d.frames if model.needs_frames else None,
                    model.flatten_obs(d.observations) if model.needs_obs else None,
                )
                obs = torch.from_numpy(obs).to(model.device) if obs is not None else None
                fr = torch.from_numpy(fr).to(model.device) if fr is not None else None
                logits = model.stage_head(model.features(fr, obs, [d.instruction] * len(d.subtask)))
                stages.append(logits.argmax(-1).cpu().numpy())
        out["stage_accuracy"] = stage_accuracy(np.concatenate(stages), np.concatenate([lab.stage for lab in labels]))
        out["progress_mae"] = progress_mae(np.concatenate(preds), np.concatenate([lab.progress for lab in labels]))
    return out


def instruction_confusion(
    model: ProgressReward, demos: list[Demo], template: str, colours: list[str]
) -> tuple[np.ndarray, list[str]]:
    """Language grounding as a matrix: mean final progress (last 5 frames) of clean successful
    demos (rows: the true block colour) scored with the instruction naming each colour (columns),
    same pad and phrasing. A grounded model has a bright diagonal.

    Returns:
        (matrix over the colours that occur, those colours).
    """
    import dataclasses

    sums, counts = np.zeros((len(colours), len(colours))), np.zeros(len(colours))
    for d in demos:
        if d.quality != "clean" or not d.success:
            continue
        row = colours.index(d.colors["block"])
        counts[row] += 1
        for col, c in enumerate(colours):
            named = dataclasses.replace(d, instruction=template.format(block=c, pad=d.colors["pad"]))
            sums[row, col] += float(predict_episode(model, named)[-5:].mean())
    seen = counts > 0
    return sums[seen] / counts[seen, None], [c for c, k in zip(colours, seen) if k]
