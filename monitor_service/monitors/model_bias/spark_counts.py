"""The Spark side of the bias jobs: everything the metrics need in two small aggregates and one bounded sample.

1. `profile`: one aggregate over the prepared records: the record states (usable, waiting for
   a label, invalid label / prediction) and, per facet / label / prediction column, the counts
   the Clarify typing rule needs (values, numbers, integers, distinct numbers, maximum).
2. `count_rows`: ONE aggregation of record counts per (facet, facet key, label positive?,
   prediction positive?, group-variable value), all facets at once (each record is emitted once
   per facet). The facet key is "d"/"a" for a configured group, or the value itself when the
   facet gets one entry per value. Every metric except FT, and the bootstrap, use only these rows.
3. `flip_sample`: for FT, at most `limit` usable records chosen by a seeded hash of their
   content (the same data gives the same sample however it is partitioned), collected to the driver.

Records come from the shared readers (`fields` = array<struct<name, value>>), merged with
ground truth (`gt_fields`) by the model-quality merge when labels arrive late.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from monitor_service.errors import InputError
from monitor_service.monitors.model_bias.attributes import BiasAttributes
from monitor_service.monitors.model_bias.column_types import ColumnProfile
from monitor_service.monitors.model_bias.config import AnalysisConfig, Scalar
from monitor_service.monitors.model_bias.facets import Split
from monitor_service.monitors.model_bias.flip_test import FlipSample
from monitor_service.monitors.model_bias.model_scores import SCORE_COLUMN
from monitor_service.monitors.model_bias.plan import Plan, Profiles, prediction_source
from monitor_service.monitors.model_quality.spark_metrics import locate

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

STATES = ("usable", "unlabelled", "invalid_label", "invalid_prediction")
MAX_COUNT_ROWS = 2_000_000
_INTEGER = r"^[+-]?[0-9]+$"


def _text(value: Column) -> Column:
    from pyspark.sql import functions as F

    trimmed = F.trim(value)
    return F.when(trimmed != "", trimmed)


def _number(text: Column) -> Column:
    """The value as a finite double, else null."""
    from pyspark.sql import functions as F

    number = text.try_cast("double")
    return F.when(~F.isnan(number) & (F.abs(number) != F.lit(float("inf"))), number)


def prepare(
    df: DataFrame, config: AnalysisConfig, attrs: BiasAttributes, merged: bool, needs_prediction: bool
) -> DataFrame:
    """Columns state, label, prediction (text), score, facet_0.., grp, fields (for FT), key columns.

    `merged`: the labels come from ground truth (`gt_fields`, null = not arrived yet); otherwise
    from the config's `label` column of the records.
    """
    from pyspark.sql import functions as F

    label = _text(locate("gt_fields", attrs.ground_truth_attribute) if merged else locate("fields", config.label_name))
    source = prediction_source(config, attrs)
    prediction = F.lit(None).cast("string")
    score = F.lit(None).cast("double")
    if source == "inference":
        prediction = _text(locate("fields", attrs.inference_attribute))
    elif source == "predicted_label":
        assert config.predicted_label is not None
        prediction = _text(locate("fields", config.column(config.predicted_label)))
    elif source == "probability":
        score = _number(_text(locate("fields", attrs.probability_attribute)))
    elif source == "model":  # scored by the config's predictor (model_scores.with_model_scores)
        score = F.when(~F.isnan(F.col(SCORE_COLUMN)), F.col(SCORE_COLUMN))
    has_prediction = score.isNotNull() if source in ("probability", "model") else prediction.isNotNull()
    state = (
        F.when(F.col("gt_fields").isNull(), F.lit("unlabelled")) if merged else F.when(F.lit(False), F.lit(""))
    )
    state = state.when(label.isNull(), F.lit("invalid_label"))
    if needs_prediction:
        state = state.when(~has_prediction, F.lit("invalid_prediction"))
    state = state.otherwise(F.lit("usable"))
    group = (
        _text(locate("fields", config.column(config.group_variable))) if config.group_variable is not None else None
    )
    ids = [F.col(c) for c in ("event_id", "record_index") if c in df.columns]
    facets = [_text(locate("fields", config.column(f.name_or_index))) for f in config.facet]
    return df.select(
        state.alias("state"),
        label.alias("label"),
        prediction.alias("prediction"),
        score.alias("score"),
        *[facet.alias(f"facet_{i}") for i, facet in enumerate(facets)],
        (group if group is not None else F.lit(None).cast("string")).alias("grp"),
        F.col("fields"),
        *ids,
    )


def _profile_columns(name: str, typed: bool) -> list[Column]:
    """The typing profile of one column; the distinct count (costly) only when the type depends on it.

    With more than one configured value a column is categorical whatever its data (`typed` False).
    """
    from pyspark.sql import functions as F

    usable = F.col("state") == "usable"
    value = F.when(usable, F.col(name))
    number = _number(value)
    return [
        F.count(value).alias(f"{name}__count"),
        F.count(number).alias(f"{name}__numeric"),
        F.count(F.when(value.rlike(_INTEGER), 1)).alias(f"{name}__integers"),
        (F.count_distinct(number) if typed else F.lit(0)).alias(f"{name}__distinct"),
        F.max(number).alias(f"{name}__max"),
    ]


def _column_profile(row: Any, name: str) -> ColumnProfile:
    return ColumnProfile(
        count=int(row[f"{name}__count"]),
        numeric=int(row[f"{name}__numeric"]),
        integers=int(row[f"{name}__integers"]),
        distinct_numbers=int(row[f"{name}__distinct"]),
        max_number=None if row[f"{name}__max"] is None else float(row[f"{name}__max"]),
    )


def profile(prepared: DataFrame, config: AnalysisConfig, text_prediction: bool) -> tuple[dict[str, int], Profiles]:
    """Record states and column profiles in one aggregate."""
    from pyspark.sql import functions as F

    usable = F.col("state") == "usable"
    facet_names = [f"facet_{i}" for i in range(len(config.facet))]
    label_typed = len(config.label_values_or_threshold) <= 1
    typed = [(n, len(f.value_or_threshold or []) <= 1) for n, f in zip(facet_names, config.facet, strict=True)]
    typed += [("label", label_typed), *([("prediction", label_typed)] if text_prediction else [])]
    exprs = [F.count(F.when(F.col("state") == s, 1)).alias(f"state__{s}") for s in STATES]
    for name, needs_distinct in typed:
        exprs += _profile_columns(name, needs_distinct)
    # Distinct values bound the one-entry-per-value facets and the group variable.
    exprs += [(F.count_distinct(F.when(usable, F.col(n))) if f.value_or_threshold is None else F.lit(0))
              .alias(f"{n}__distinct_text") for n, f in zip(facet_names, config.facet, strict=True)]
    grouped = config.group_variable is not None
    exprs.append((F.count_distinct(F.when(usable, F.col("grp"))) if grouped else F.lit(0)).alias("grp__distinct"))
    row = prepared.agg(*exprs).first()
    assert row is not None
    states = {s: int(row[f"state__{s}"]) for s in STATES}
    profiles = Profiles(
        facets=[_column_profile(row, n) for n in facet_names],
        facet_distinct_text=[int(row[f"{n}__distinct_text"]) for n in facet_names],
        label=_column_profile(row, "label"),
        prediction=_column_profile(row, "prediction") if text_prediction else None,
        group_distinct=int(row["grp__distinct"]) if config.group_variable is not None else None,
    )
    return states, profiles


def _matches(text: Column, values: list[Scalar]) -> Column:
    """Whether a text value is one of the configured values (numbers as numbers, booleans in any case)."""
    from pyspark.sql import functions as F

    from monitor_service.monitors.model_bias.column_types import as_number

    number = _number(text)
    condition = F.lit(False)
    for value in values:
        if isinstance(value, bool):
            condition = condition | (F.lower(text) == str(value).lower())
            continue
        condition = condition | (text == str(value))
        numeric = as_number(value)
        if numeric is not None:
            condition = condition | (number == F.lit(numeric))
    return F.coalesce(condition, F.lit(False))


def split_member(text: Column, split: Split) -> Column:
    """Whether a value falls in the group d of a "values" or "interval" split."""
    from pyspark.sql import functions as F

    if split.kind == "values":
        return _matches(text, split.values)
    if split.kind == "interval" and split.interval is not None:
        number = _number(text)
        return F.coalesce((number > F.lit(split.interval.lo)) & (number <= F.lit(split.interval.hi)), F.lit(False))
    return F.lit(False)


def facet_key(text: Column, split: Split) -> Column:
    """The facet key of the count table: "d" / "a", or the value itself for one entry per value."""
    from pyspark.sql import functions as F

    if split.kind == "per_value":
        if split.integer_keys:
            return _number(text).cast("bigint").cast("string")
        return text
    if split.kind == "error":
        return F.lit(None).cast("string")
    return F.when(split_member(text, split), F.lit("d")).otherwise(F.lit("a"))


def positive_prediction(plan: Plan) -> Column:
    from pyspark.sql import functions as F

    if plan.prediction_source in ("probability", "model"):
        return F.coalesce(F.col("score") > F.lit(plan.probability_threshold), F.lit(False))
    if plan.prediction is None:
        return F.lit(False)
    return split_member(F.col("prediction"), plan.prediction)


def _group_key() -> Column:
    """Group-variable values as keys: numbers canonical (30 and 30.0 are one group), else the text."""
    from pyspark.sql import functions as F

    number = _number(F.col("grp"))
    return F.when(number.isNotNull(), number.cast("string")).otherwise(F.col("grp"))


def with_keys(prepared: DataFrame, plan: Plan) -> DataFrame:
    """The usable records with their per-facet keys and positive label / prediction flags."""
    from pyspark.sql import functions as F

    return prepared.where(F.col("state") == "usable").select(
        F.array(*[facet_key(F.col(f"facet_{i}"), s) for i, s in enumerate(plan.facets)]).alias("keys"),
        split_member(F.col("label"), plan.label).alias("label_pos"),
        positive_prediction(plan).alias("pred_pos"),
        _group_key().alias("grp"),
        *[c for c in ("fields", "event_id", "record_index") if c in prepared.columns],
    )


def count_rows(keyed: DataFrame) -> list[tuple[int, str | None, bool, bool, str | None, int]]:
    """ONE aggregation: counts per (facet index, facet key, label positive, prediction positive, group)."""
    from pyspark.sql import functions as F

    exploded = keyed.select(F.posexplode("keys").alias("facet", "key"), "label_pos", "pred_pos", "grp")
    grouped = exploded.groupBy("facet", "key", "label_pos", "pred_pos", "grp").agg(F.count(F.lit(1)).alias("n"))
    rows = grouped.limit(MAX_COUNT_ROWS + 1).collect()
    if len(rows) > MAX_COUNT_ROWS:
        raise InputError(
            f"the bias count table has more than {MAX_COUNT_ROWS} cells (facet values x group-variable values)",
            hint="give value_or_threshold for many-valued facets, or a group variable with fewer values",
        )
    return [(int(r["facet"]), r["key"], bool(r["label_pos"]), bool(r["pred_pos"]), r["grp"], int(r["n"])) for r in rows]


def flip_sample(keyed: DataFrame, limit: int, seed: int, usable: int) -> FlipSample:
    """At most `limit` usable records, picked by a seeded hash of their content and ids."""
    from pyspark.sql import functions as F

    ids = [F.col(c) for c in ("event_id", "record_index") if c in keyed.columns]
    hashed = keyed.withColumn("_h", F.pmod(F.xxhash64(F.lit(seed), F.col("fields"), *ids), F.lit(1_000_000_007)))
    if usable > limit:
        cutoff = min(1.0, 1.2 * limit / usable) * 1_000_000_007
        hashed = hashed.where(F.col("_h") < F.lit(cutoff))
    rows = hashed.orderBy("_h").limit(limit).select("fields", "keys", "pred_pos").collect()
    return FlipSample(
        fields=[{f["name"]: f["value"] for f in (r["fields"] or [])} for r in rows],
        keys=[list(r["keys"]) for r in rows],
        predicted=[bool(r["pred_pos"]) for r in rows],
        limit=limit,
        usable=usable,
    )
