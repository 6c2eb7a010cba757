"""`ks`: the two-sample Kolmogorov–Smirnov statistic sup |F_a − F_b| for numeric columns.

Why: KS is the name most drift tools (Evidently, Alibi Detect, whylogs) use for this measure,
so users can ask for it by that name. From sketches it is the same number as `linf_simple`
on numeric columns (equal to `scipy.stats.ks_2samp(a, b).statistic` while the sketches still
hold raw values); no p-value is reported because sketch sizes are not sample sizes.
"""

from __future__ import annotations

from monitor_service.core.drift.linf_simple import numeric_linf
from monitor_service.core.drift.registry import DriftMethod, register

METHOD = register(DriftMethod(name="ks", label="KS", larger_is_drift=True, numeric=numeric_linf))
