"""Predict, status and metadata over the registry: what REST and gRPC both answer."""
import asyncio

import numpy as np
import tensorflow as tf

from tfgad.serving import records, rest
from tfgad.serving.batching import Batcher


def _assertion_text(error):
    lines = [l.strip() for l in str(error.message).splitlines() if "assertion failed" in l]
    return lines[0] if lines else str(error.message).splitlines()[0]


def _batchable(function):
    """Whether every output has the batch first, so that merged requests split back."""
    outputs = function.structured_outputs.values()
    return all(s.shape.rank and s.shape[0] is None for s in outputs)


class Service:
    """The server's logic, independent of the wire format."""

    def __init__(self, registry, batcher: Batcher | None = None,
                 record_options: records.RecordOptions | None = None):
        self.registry, self.batcher = registry, batcher
        self.beats = records.BeatService(self, record_options)

    def signature(self, name, version, signature_name):
        version, model = self.registry.get(name, version)
        signature_name = signature_name or "serving_default"
        if signature_name not in model.signatures:
            raise rest.BadRequest(f"signature {signature_name!r} not found; known: "
                                  f"{sorted(model.signatures)}")
        return version, signature_name, model.signatures[signature_name]

    def route(self, name, version, signature_name, provided: set) -> tuple:
        """(version, signature name, function, records.Plan or None) of a predict request
        whose body names the inputs `provided`."""
        version, signature_name, function = self.signature(name, version, signature_name)
        _, model = self.registry.get(name, version)
        return (version, signature_name, function,
                records.plan(self.registry, version, signature_name, model, provided))

    async def answer(self, route: tuple, inputs: dict, record: str | None) -> dict:
        """The outputs of a routed request: its Plan's (quality, record baselines) or the
        signature's as they are."""
        version, signature_name, function, plan = route
        if plan is not None:
            return await self.beats.predict(plan, inputs, record)
        return await self.predict(version, signature_name, function, inputs)

    def forget(self, version: int) -> None:
        """Drops what the server holds for an unloaded version (queues, record baselines)."""
        if self.batcher is not None:
            self.batcher.forget(version)
        self.beats.forget(version)

    async def predict(self, version: int, signature_name: str, function, inputs: dict) -> dict:
        """{output: numpy array} of a signature (as signature() resolved it) for numpy inputs."""
        specs = function.structured_input_signature[1]
        for key, array in inputs.items():
            if key in specs:
                rest.check_shape(key, specs[key], array.shape)
            # Checked here, not only in the graph: one bad request must not fail the batch
            # it would be merged into.
            if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
                raise rest.BadRequest(f"input {key!r} holds NaN or inf values; send finite numbers")
            if array.ndim == 0 or len(array) == 0:
                raise rest.BadRequest(f"input {key!r} holds no examples")

        def call(arrays):
            try:
                out = function(**{k: tf.constant(v) for k, v in arrays.items()})
            except tf.errors.InvalidArgumentError as e:  # the graph's own checks (shape)
                raise rest.BadRequest(_assertion_text(e)) from None
            return {k: v.numpy() for k, v in out.items()}

        if self.batcher is not None and _batchable(function):
            key = (version, signature_name, tuple(sorted((k, v.shape[1:], str(v.dtype))
                                                         for k, v in inputs.items())))
            return await self.batcher.submit(key, call, inputs)
        return await asyncio.get_running_loop().run_in_executor(None, call, inputs)

    def status(self, name: str, version: int | None = None) -> dict:
        return {"model_version_status": [
            {"version": str(v["version"]), "state": v["state"],
             "status": {"error_code": "OK" if not v["error"] else "UNKNOWN",
                        "error_message": v["error"]}}
            for v in self.registry.status(name, version)]}

    def metadata(self, name: str, version: int | None = None) -> dict:
        version, model = self.registry.get(name, version)
        signatures = {k: rest.signature_metadata(f) for k, f in model.signatures.items()}
        return {"model_spec": {"name": name, "signature_name": "", "version": str(version)},
                "metadata": {"signature_def": {"signature_def": signatures}}}
