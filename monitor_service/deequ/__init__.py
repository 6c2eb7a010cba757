"""Deequ adapter: the `deequ_checks` block of constraints.json and the metric history for anomaly checks.

Only pure models live here so far (no Spark, no pydeequ import): they define the JSON language
users write and the service validates at upload. Running the checks needs Deequ's JVM classes
for Spark 4.1 (`com.amazon.deequ:deequ:2.0.18-spark-4.1`); see docs/deequ.md for why that jar is
not wired in yet.
"""
