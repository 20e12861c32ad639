"""A server compatible with TF Serving's REST and gRPC APIs, for laptops, CI and small deployments."""
