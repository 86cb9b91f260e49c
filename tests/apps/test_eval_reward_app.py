"""robrew-eval-reward end to end: a tiny random CLIP with an α x prompt sweep, and a tiny
saved progress model; plus the metric plumbing on hand-made sequences."""

import json
import subprocess
import sys

import numpy as np
import pytest

from robrew.eval.labelled_rollouts import LabelledSequence
from robrew.eval.reward_eval import clip_variants, reward_metrics


def run(args, cwd):
    proc = subprocess.run(
        [sys.executable, "-m", "robrew.apps.eval_reward", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc


def test_clip_alpha_and_prompt_sweep(tmp_path, tiny_clip_dir):
    proc = run(
        [
            "--tasks",
            "humanoid_kneeling",
            "--pretrained",
            str(tiny_clip_dir),
            "--alphas",
            "0",
            "1",
            "--prompts",
            "a humanoid robot kneeling",
            "--prompts",
            "a robot on its knees|a kneeling robot",
            "--per-source",
            "1",
            "--out",
            str(tmp_path / "out"),
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "out" / "reward_eval.json").read_text())
    assert [r["variant"] for r in result["rows"]] == [
        "alpha=0, prompts#0",
        "alpha=1, prompts#0",
        "alpha=0, prompts#1",
        "alpha=1, prompts#1",
    ]
    for r in result["rows"]:
        assert -1 <= r["pearson"] <= 1 and 0 <= r["epic_distance"] <= 1
        assert r["epic_distance"] == pytest.approx(np.sqrt((1 - r["pearson"]) / 2))
    assert (tmp_path / "out" / "landscape_humanoid_kneeling.png").stat().st_size > 1000
    assert (tmp_path / "out" / "reward_eval.html").is_file()
    assert "alpha=1, prompts#1" in proc.stdout and "EPIC" in proc.stdout


def test_saved_progress_model(tmp_path):
    from robrew.rewards import save_reward_model
    from robrew.rewards.progress import ProgressReward

    save_reward_model(ProgressReward(2, [0.5, 0.5], encoder="state", obs_dim=26), tmp_path / "pm")
    proc = run(
        [
            "--tasks",
            "tabletop_reach",
            "--checkpoint",
            str(tmp_path / "pm"),
            "--per-source",
            "1",
            "--out",
            str(tmp_path / "o"),
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((tmp_path / "o" / "reward_eval.json").read_text())["rows"]
    assert (
        len(rows) == 1 and rows[0]["variant"] == "pm" and set(rows[0]) >= {"mean_reward_expert", "mean_reward_random"}
    )


def test_bad_task_is_one_clear_error(tmp_path):
    proc = run(["--tasks", "no_such_task", "--reward", "frame_mean", "--out", str(tmp_path)], tmp_path)
    assert proc.returncode == 2 and "no_such_task" in proc.stderr and "Traceback" not in proc.stderr


def test_metrics_on_hand_made_sequences():
    def seq(source, labels):
        labels = np.asarray(labels, np.float32)
        return LabelledSequence(source, None, np.zeros((len(labels), 1), np.float32), None, labels, bool(labels[-1]))

    seqs = [seq("expert", [0, 0, 1]), seq("random", [0, 0, 0])]
    scores = [np.array([0.1, 0.5, 0.9]), np.array([0.2, 0.1, 0.3])]
    m = reward_metrics(scores, seqs)
    r, y = np.concatenate(scores), np.concatenate([s.labels for s in seqs])
    assert m["pearson"] == pytest.approx(np.corrcoef(r, y)[0, 1])
    assert m["voc"] == pytest.approx(1.0) and m["success_auc"] == 1.0
    assert m["mean_reward_random"] == pytest.approx(0.2)
    assert [v.label for v in clip_variants([0, 0.5])] == ["alpha=0", "alpha=0.5"]


@pytest.mark.heavy
def test_policy_rollouts_join_their_tasks_sequences(tmp_path, tiny_clip_dir, tiny_humanoid_run, run_clis):
    from robrew.eval.labelled_rollouts import policy_rollouts

    spec, seqs = policy_rollouts(tiny_humanoid_run, episodes=2, frames=False)
    assert spec.name == "humanoid_kneeling" and [s.source for s in seqs] == ["policy", "policy"]
    for s in seqs:  # per-step detector labels, consistent with the env's episode verdict (>= 50 of 100)
        assert len(s) == spec.horizon and s.obs.shape == (spec.horizon, 348) and set(np.unique(s.labels)) <= {0, 1}
        assert s.success == (s.labels.sum() >= 50)
    args = ["--tasks", "humanoid_kn*", "--pretrained", str(tiny_clip_dir), "--alphas", "0.5", "--per-source", "1"]
    proc = run(
        [*args, "--policies", str(tiny_humanoid_run), "--policy-episodes", "2", "--out", str(tmp_path / "o")], tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "o" / "reward_eval.json").read_text())
    (row,) = result["rows"]
    assert row["task"] == "humanoid_kneeling" and row["frames"] == 2 * 12 + 2 * spec.horizon
    assert np.isfinite(row["mean_reward_policy"]) and result["policy_runs"] == {
        "humanoid_kneeling": [str(tiny_humanoid_run)]
    }
    # A run of another task, a directory that is no run, a pattern that matches nothing: one line, nothing written.
    cases = (
        (["--tasks", "humanoid_lotus", "--policies", str(tiny_humanoid_run)], "trained on 'humanoid_kneeling'"),
        (["--tasks", "humanoid_lotus", "--policies", str(tmp_path)], "neither a run directory"),
        (["--tasks", "nothing_*"], "matches no shipped task"),
    )
    argvs = [
        (["robrew-eval-reward", *extra, "--reward", "frame_mean", "--out", tmp_path / "bad"], tmp_path)
        for extra, _ in cases
    ]
    for (_, message), bad in zip(cases, run_clis(argvs)):
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
        assert not (tmp_path / "bad").exists()
