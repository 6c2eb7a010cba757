"""Ground truth: labels of captured inferences, as SageMaker ground-truth files for the monitors that merge them."""
