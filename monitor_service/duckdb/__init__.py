"""The DuckDB engine: data-quality profiles on one machine, without a JVM.

It reads the same inputs as the Spark engine with the same rules (`monitor_service.spark` is
the specification; `general` and `payloads` mirror it rule for rule), and produces the same
`monitor_service.core.profile.DatasetProfile`, so statistics, constraints, checks and drift are
shared code. DuckDB parses the JSON lines and the common payload shapes in SQL; record values
reach the profiler as Arrow buffers, which compiled loops (`kernels`) and DataSketches turn
into the profile state. Nothing here imports Spark.
"""
