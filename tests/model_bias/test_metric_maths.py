"""Every count metric against smclarify 0.5, hand-written numpy/pandas formulas and fairlearn (no Spark)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate, true_negative_rate, true_positive_rate
from sklearn.metrics import accuracy_score

from monitor_service.monitors.model_bias.analysis_document import FacetEntry, StageResult, analysis_document
from monitor_service.monitors.model_bias.catalog import DESCRIPTIONS, POST_TRAINING, PRE_TRAINING
from monitor_service.monitors.model_bias.conventions import difference, divide
from monitor_service.monitors.model_bias.counts import CountTable
from monitor_service.monitors.model_bias.flip_test import flip_test
from monitor_service.monitors.model_bias.metrics import compute_metrics
from tests.model_bias.oracle import by_name, clarify, table_from_arrays

COUNT_METRICS = sorted((set(PRE_TRAINING) | set(POST_TRAINING)) - {"FT"})


def _data(seed: int, n: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "sex": rng.integers(0, 2, n),
        "grp": rng.integers(0, 6, n),
        "x1": rng.normal(size=n),
        "x2": rng.normal(size=n) * 3,
    })
    df["label"] = (rng.random(n) < 0.35 + 0.2 * df["sex"]).astype(int)
    df["pred"] = (rng.random(n) < 0.25 + 0.35 * df["sex"] + 0.1 * df["label"]).astype(int)
    return df


def _mine(df: pd.DataFrame, facet_value: int = 0, group: bool = True) -> dict[str, object]:
    table = table_from_arrays((df["sex"] == facet_value).to_numpy(), (df["label"] == 1).to_numpy(),
                              (df["pred"] == 1).to_numpy(), df["grp"].to_numpy() if group else None)
    return {m.name: ("error", m.error) if m.error else m.value for m in compute_metrics(table, COUNT_METRICS)}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_every_count_metric_equals_smclarify(seed: int) -> None:
    df = _data(seed)
    expected = clarify(df, "sex", [0], "label", [1], prediction="pred", group="grp")
    reference = {**by_name(expected["pre"][0]), **by_name(expected["post"][0])}
    mine = _mine(df)
    for name in COUNT_METRICS:
        assert mine[name] == pytest.approx(reference[name], rel=1e-12, abs=1e-15), name


def test_metrics_match_written_formulas_and_fairlearn() -> None:
    df = _data(7, 2000)
    d, a = df[df.sex == 0], df[df.sex == 1]
    mine = _mine(df)
    # Pre-training, written out.
    assert mine["CI"] == pytest.approx((len(a) - len(d)) / len(df))
    assert mine["DPL"] == pytest.approx(a.label.mean() - d.label.mean())
    pa = np.array([1 - a.label.mean(), a.label.mean()])
    pd_ = np.array([1 - d.label.mean(), d.label.mean()])
    mid = (pa + pd_) / 2
    assert mine["KL"] == pytest.approx(float(np.sum(pa * np.log(pa / pd_))))
    assert mine["JS"] == pytest.approx(0.5 * float(np.sum(pa * np.log(pa / mid)) + np.sum(pd_ * np.log(pd_ / mid))))
    assert mine["LP"] == pytest.approx(float(np.sqrt(np.sum((pa - pd_) ** 2))))
    assert mine["TVD"] == pytest.approx(0.5 * float(np.abs(pa - pd_).sum()))
    assert mine["KS"] == pytest.approx(abs(mine["DPL"]))  # binary label, both values in both groups
    # Post-training, per-group rates from fairlearn.
    frame = MetricFrame(
        metrics={"sel": selection_rate, "tpr": true_positive_rate, "tnr": true_negative_rate, "acc": accuracy_score},
        y_true=df.label, y_pred=df.pred, sensitive_features=df.sex,
    )
    g = frame.by_group
    assert mine["DPPL"] == pytest.approx(g.loc[1, "sel"] - g.loc[0, "sel"])
    assert mine["DI"] == pytest.approx(g.loc[0, "sel"] / g.loc[1, "sel"])
    assert mine["RD"] == pytest.approx(g.loc[1, "tpr"] - g.loc[0, "tpr"])
    assert mine["SD"] == pytest.approx(g.loc[0, "tnr"] - g.loc[1, "tnr"])
    assert mine["AD"] == pytest.approx(g.loc[1, "acc"] - g.loc[0, "acc"])

    def confusion(x: pd.DataFrame) -> tuple[int, int, int, int]:
        return (int(((x.label == 1) & (x.pred == 1)).sum()), int(((x.label == 0) & (x.pred == 1)).sum()),
                int(((x.label == 1) & (x.pred == 0)).sum()), int(((x.label == 0) & (x.pred == 0)).sum()))

    tp_a, fp_a, fn_a, tn_a = confusion(a)
    tp_d, fp_d, fn_d, tn_d = confusion(d)
    assert mine["DCA"] == pytest.approx((tp_a + fn_a) / (tp_a + fp_a) - (tp_d + fn_d) / (tp_d + fp_d))
    assert mine["DCR"] == pytest.approx((tn_d + fp_d) / (tn_d + fn_d) - (tn_a + fp_a) / (tn_a + fn_a))
    assert mine["DAR"] == pytest.approx(tp_a / (tp_a + fp_a) - tp_d / (tp_d + fp_d))
    assert mine["DRR"] == pytest.approx(tn_d / (tn_d + fn_d) - tn_a / (tn_a + fn_a))
    assert mine["TE"] == pytest.approx(fn_d / fp_d - fn_a / fp_a)
    benefit = df.pred - df.label + 1
    ratio = benefit / benefit.mean()
    assert mine["GE"] == pytest.approx(float(((ratio**2) - 1).sum() / (len(df) * 2)))
    # CDD written out: per group, share of d among rejected minus share among accepted, weighted by size.
    for outcome, name in (("label", "CDDL"), ("pred", "CDDPL")):
        total = 0.0
        for _, part in df.groupby("grp"):
            acc, rej = part[part[outcome] == 1], part[part[outcome] == 0]
            share_acc = (acc.sex == 0).mean() if len(acc) else 0.0
            share_rej = (rej.sex == 0).mean() if len(rej) else 0.0
            total += len(part) * (share_rej - share_acc)
        assert mine[name] == pytest.approx(total / len(df)), name


def test_kl_family_uses_only_label_values_present_in_both_groups() -> None:
    """smclarify drops label values absent from a group without renormalising: KL stays finite (even negative)."""
    df = _data(3, 400)
    df.loc[df.sex == 0, "label"] = 0  # d has no positive label at all
    expected = by_name(clarify(df, "sex", [0], "label", [1])["pre"][0])
    mine = _mine(df, group=False)
    for name in ("KL", "JS", "LP", "TVD", "KS", "DPL", "CI"):
        assert mine[name] == pytest.approx(expected[name], rel=1e-12), name
    # Only "not positive" is in both groups: P_a = [1 - q_a], P_d = [1], so KL = (1 - q_a) log(1 - q_a) < 0.
    q_a = df[df.sex == 1].label.mean()
    assert mine["KL"] == pytest.approx((1 - q_a) * math.log(1 - q_a)) and mine["KL"] < 0


def test_errors_are_clarifys() -> None:
    """A facet value that is absent empties group d: every metric is null with smclarify's own error text."""
    df = _data(5, 300)
    expected = clarify(df, "sex", [7], "label", [1], prediction="pred")
    reference = {**by_name(expected["pre"][0]), **by_name(expected["post"][0])}
    mine = _mine(df, facet_value=7, group=False)
    for name in COUNT_METRICS:
        if name == "GE":
            continue  # GE is over the whole data set, so it is still computable
        assert mine[name] == reference[name], name
    assert mine["CDDL"] == ("error", "Group variable is empty or not provided")


def test_division_conventions_match_smclarify_functions() -> None:
    """x/0 = +-Infinity, 0/0 = 0, two infinite ratios differ by 0 — checked against smclarify's own functions."""
    from smclarify.bias.metrics import posttraining as sm

    assert list(divide(np.array([0.0, 1.0, -2.0, 3.0]), np.array([0.0, 0.0, 0.0, 2.0]))) == [0.0, math.inf,
                                                                                               -math.inf, 1.5]
    assert difference(np.array(math.inf), np.array(math.inf)) == 0.0
    cases = {
        # d has false negatives but no false positives -> TE = +Infinity
        "te_inf": ([1, 1, 1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 1, 0, 1, 1], [1, 0, 0, 0, 1, 1, 1, 0]),
        # nobody has a false positive, both have false negatives -> both ratios infinite -> TE = 0
        "te_both": ([1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0], [0, 1, 0, 1, 0, 0]),
        # d has no predicted positive: DCA's d ratio n_d(1)/0 = Infinity
        "dca_inf": ([1, 1, 1, 0, 0, 0], [1, 0, 1, 1, 0, 0], [0, 0, 0, 1, 1, 0]),
    }
    for name, (facet, label, pred) in cases.items():
        f = pd.Series(np.array(facet) == 1)
        y = pd.Series(np.array(label) == 1)
        p = pd.Series(np.array(pred) == 1)
        table = table_from_arrays(f.to_numpy(), y.to_numpy(), p.to_numpy(), None)
        got = {m.name: m.value for m in compute_metrics(table, ["TE", "DCA", "DCR", "DAR", "DRR", "RD", "SD", "DI"])}
        feature = pd.Series(np.zeros(len(f)))
        for metric in ("TE", "DCA", "DCR", "DAR", "DRR", "RD", "SD"):
            assert got[metric] == getattr(sm, metric)(feature, f, y, p), (name, metric)
        assert got["DI"] == sm.DI(feature, f, p), name
    infinite = table_from_arrays(*(np.array(v) == 1 for v in cases["te_inf"]), None)
    te = compute_metrics(infinite, ["TE"])
    assert te[0].value == math.inf
    doc = analysis_document({"post_training": StageResult("y", "1", {"f": [FacetEntry("1", te)]})})
    assert doc["post_training_bias_metrics"]["facets"]["f"][0]["metrics"][0]["value"] == "Infinity"


def test_flip_test_equals_smclarify_and_has_its_sign() -> None:
    from smclarify.bias.metrics import posttraining as sm

    for seed in (0, 1):
        df = _data(seed, 400)
        df["pred"] = ((df.x1 + 0.8 * (df.sex == 1) + np.random.default_rng(seed).normal(size=len(df)) * 0.3) > 0.4)
        features = df[["grp", "x1", "x2"]].astype(float)
        in_d = (df.sex == 0).to_numpy()
        expected = sm.FT(features, pd.Series(in_d), df.pred.astype(bool))
        got = flip_test(features.to_numpy(), in_d, df.pred.to_numpy(dtype=bool))
        assert got.value == pytest.approx(expected, abs=1e-12)
        # The model favours a (sex 1): d's predictions are lower than a kNN fitted on a predicts -> negative FT.
        assert got.value < 0
    small = flip_test(np.array([[0.0], [1.0], [2.0], [0.1]]), np.array([True, False, False, True]),
                      np.array([False, True, False, True]))
    assert small.value == pytest.approx(sm.FT(pd.DataFrame({"x": [0.0, 1.0, 2.0, 0.1]}),
                                               pd.Series([True, False, False, True]),
                                               pd.Series([False, True, False, True])))


def test_metrics_are_sorted_and_described_as_clarify() -> None:
    table = CountTable.empty(None)
    table.cells[0, 1, 1, 0] = table.cells[1, 0, 0, 0] = table.cells[1, 1, 1, 0] = table.cells[0, 0, 0, 0] = 3
    results = compute_metrics(table, ["TE", "AD", "DI", "CI"])
    assert [r.name for r in results] == ["AD", "CI", "DI", "TE"]
    assert all(r.to_json()["description"] == DESCRIPTIONS[r.name] for r in results)
    assert DESCRIPTIONS["KL"] == "Kullback-Liebler Divergence (KL)"
