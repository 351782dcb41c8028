"""Programs that answer questions with the model: comparisons, calibration, benchmarks."""
