"""A REST server compatible with TF Serving's API, for tests, demos and small deployments."""
