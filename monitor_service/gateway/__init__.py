"""The inference gateway: SageMaker-style real-time endpoints with lossless data capture (its own process)."""
