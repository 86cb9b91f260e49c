"""Reward-quality metrics against scipy / sklearn on fixed arrays."""

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from robrew.metrics.reward import epic_distance, pearson, progress_mae, stage_accuracy, success_auc, voc


def test_voc_is_mean_spearman():
    eps = [np.array([0.1, 0.3, 0.2, 0.9]), np.array([0.5, 0.4, 0.6, 0.7, 0.8])]
    expected = np.mean([stats.spearmanr(e, np.arange(len(e))).statistic for e in eps])
    assert voc(eps) == pytest.approx(expected)
    assert voc([np.arange(10.0)]) == pytest.approx(1.0) and voc([np.arange(10.0)[::-1]]) == pytest.approx(-1.0)
    assert voc([np.ones(5)]) == 0.0


def test_success_auc_matches_sklearn():
    scores, labels = [0.1, 0.8, 0.4, 0.9, 0.3], [False, True, False, True, True]
    assert success_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))
    assert np.isnan(success_auc([0.1, 0.2], [True, True]))


def test_pearson_epic_and_simple_metrics():
    a, b = np.array([1.0, 2.0, 3.0, 5.0]), np.array([2.0, 1.0, 4.0, 6.0])
    rho = stats.pearsonr(a, b).statistic
    assert pearson(a, b) == pytest.approx(rho)
    assert epic_distance(rho) == pytest.approx(np.sqrt((1 - rho) / 2))
    assert epic_distance(1.0) == 0.0 and epic_distance(-1.0) == 1.0
    assert stage_accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])) == 0.75
    assert progress_mae(np.array([0.0, 0.5]), np.array([0.1, 0.2])) == pytest.approx(0.2)


def test_table_columns_stay_apart_for_long_names():
    from robrew.eval.reward_eval import format_rows

    row = {
        "task": "tabletop_pick_place_objects",
        "variant": "pm",
        "pearson": 0.5,
        "epic_distance": 0.5,
        "voc": 0.5,
        "success_auc": 1.0,
    }
    line = format_rows([row, {**row, "task": "cartpole"}]).splitlines()[2]
    assert line.split()[:2] == ["tabletop_pick_place_objects", "pm"]
