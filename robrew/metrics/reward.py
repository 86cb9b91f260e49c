"""How good is a reward model, measured against ground truth.

- VOC (value-order correlation): Spearman ρ between predicted progress and the time
  index, per episode, averaged. An expert demo should give ≈ +1, the same demo reversed ≈ -1.
- Success AUC: ROC-AUC separating successful from failed episodes by a per-episode score.
- Pearson ρ and the EPIC-style distance √((1 - ρ)/2) between a reward and labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats


def voc(progress: Sequence[np.ndarray]) -> float:
    """Mean per-episode Spearman ρ(progress, time). A constant prediction scores 0 (no order)."""
    rhos = []
    for p in progress:
        p = np.asarray(p, dtype=np.float64)
        if len(p) < 2 or np.ptp(p) == 0:
            rhos.append(0.0)
            continue
        rhos.append(float(stats.spearmanr(p, np.arange(len(p))).statistic))
    return float(np.mean(rhos))


def success_auc(scores: Sequence[float], successes: Sequence[bool]) -> float:
    """ROC-AUC of ``scores`` for ground-truth ``successes`` (NaN if only one class is present)."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(successes, dtype=bool)
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, np.asarray(scores, dtype=np.float64)))


def pearson(reward: Sequence[float], labels: Sequence[float]) -> float:
    """Pearson correlation (NaN when either side is constant)."""
    a, b = np.asarray(reward, np.float64), np.asarray(labels, np.float64)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.pearsonr(a, b).statistic)


def epic_distance(rho: float) -> float:
    """√((1 - ρ) / 2): 0 for perfectly correlated, 1 for anti-correlated."""
    return float(np.sqrt((1.0 - rho) / 2.0))


def stage_accuracy(predicted: np.ndarray, true: np.ndarray) -> float:
    """Fraction of steps whose predicted stage is right."""
    return float(np.mean(np.asarray(predicted) == np.asarray(true)))


def progress_mae(predicted: np.ndarray, true: np.ndarray) -> float:
    """Mean absolute error of predicted progress."""
    return float(np.mean(np.abs(np.asarray(predicted, np.float64) - np.asarray(true, np.float64))))
