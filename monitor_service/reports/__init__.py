"""Self-contained HTML reports written beside each run's JSON files (plotly, inlined, no network)."""
