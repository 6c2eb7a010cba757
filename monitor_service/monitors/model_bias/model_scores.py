"""Predictions from the analysis config's `predictor` when the data holds none, as a Clarify bias job gets them.

Clarify calls the model named in `predictor` for the post-training metrics of a dataset without
predictions. Here `predictor` is a model file or an HTTP model server (`monitor_service.predictor`:
add `model_uri` + `framework` or `endpoint_url` to Clarify's block). The model gets every column of
the record but the label, the predicted-label column and `excluded_columns` (the config's `headers`
when given, in that order); its positive-class probability becomes the score, positive when above
the probability threshold (Clarify's `>`). The positive class is the model output named like one of
`label_values_or_threshold`, else the second output of a two-class model, else its only output.

Spark runs the model in a pandas UDF over batches of records, loading it once per task.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from monitor_service.errors import ConfigError, ModelError
from monitor_service.monitors.model_bias.config import AnalysisConfig

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from monitor_service.predictor import Predictor, PredictorConfig

SCORE_COLUMN = "model_score"


def predictor_config(config: AnalysisConfig) -> PredictorConfig | None:
    """The config's usable `predictor` block, None without one; a broken one raises ConfigError naming its key."""
    block = (config.model_extra or {}).get("predictor")
    if block is None:
        return None
    from monitor_service.predictor import parse_predictor

    return parse_predictor(block, where="analysis config predictor")


def usable_predictor(config: AnalysisConfig) -> tuple[bool, str | None]:
    """Whether predictions can come from the predictor, and why not (for the error message)."""
    try:
        return predictor_config(config) is not None, None
    except ConfigError as exc:
        return False, str(exc)


def feature_columns(config: AnalysisConfig, seen: list[str]) -> list[str]:
    """What the model gets: the headers (else the record's columns) but the label and excluded columns."""
    excluded = {config.label_name, *(config.column(c) for c in config.excluded_columns or [])}
    if config.predicted_label is not None:
        excluded.add(config.column(config.predicted_label))
    return [c for c in (config.headers or seen) if c not in excluded]


def positive_column(predictor: Predictor, config: AnalysisConfig) -> int:
    names = [str(n) for n in predictor.output_names]
    for value in config.label_values_or_threshold:
        if str(value) in names:
            return names.index(str(value))
    if len(names) > 2:
        raise ModelError(
            f"{predictor.describe()} has {len(names)} outputs {names[:10]} and none is named like the positive "
            f"label values {config.label_values_or_threshold}",
            hint="give the predicted label with --inference-attribute, or name the outputs (label_headers)")
    return len(names) - 1


def with_model_scores(frame: DataFrame, config: AnalysisConfig, columns: list[str]) -> DataFrame:
    """`frame` with the model's positive-class probability in `model_score` (null where it cannot predict)."""
    import pandas as pd
    from pyspark.sql import functions as F

    block = predictor_config(config)
    assert block is not None

    def score(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
        from monitor_service.predictor import build_predictor

        predictor = build_predictor(block, feature_names=columns)
        positive = positive_column(predictor, config)
        for fields in batches:
            records = [{f["name"]: f["value"] for f in (row if row is not None else [])} for row in fields]
            table = pd.DataFrame([[r.get(c) for c in columns] for r in records], columns=columns)
            yield pd.Series(_predict(predictor, table, positive), dtype="float64")

    # Spark reads the iterator-of-series form from real type hints (this module's are strings).
    score.__annotations__ = {"batches": Iterator[pd.Series], "return": Iterator[pd.Series]}
    udf = F.pandas_udf(score, "double")  # type: ignore[call-overload]
    return frame.withColumn(SCORE_COLUMN, udf(F.col("fields")))


def _predict(predictor: Predictor, table: Any, positive: int) -> list[float]:
    numbers = table.apply(pd_numeric)
    if len(numbers) == 0:
        return []
    scores = predictor.predict(numbers)
    return [float(v) for v in scores[:, positive]]


def pd_numeric(column: Any) -> Any:
    """A text column as numbers where every value is one (models take numbers), else as it is."""
    import pandas as pd

    converted = pd.to_numeric(column, errors="coerce")
    return converted if converted.notna().sum() == column.notna().sum() else column
