"""The export layer: the SavedModel writer (writer), what an export folder holds (format, which
readers use without importing the models), and TF Serving's warm-up file (warmup)."""
