"""The end-to-end demo of monitor-service (not part of the installed library): `python -m demo`.

Each part lives in its own module and runs on the embedded defaults (local Spark, SQLite, local
folders): `data_quality` (capture, baseline, clean and drifted hours), `service` (schedules,
executions, violations and webhooks over REST), `model_quality` (late labels and the CBPE
estimate), `model_explainability` (a scikit-learn model, a SHAP baseline, a window like it and one
whose feature ranking drifts). `synthetic` and `model_quality_data` generate the data; tests and
benchmarks use them too.
"""
