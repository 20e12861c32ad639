"""TF Serving's REST request and response formats, for one signature of a SavedModel."""
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2


class BadRequest(ValueError):
    """The request cannot be answered as sent; the server answers 400."""


def _tensor(value, spec, name):
    try:
        array = np.asarray(value, dtype=spec.dtype.as_numpy_dtype)
    except (TypeError, ValueError) as e:
        raise BadRequest(f"input {name!r} is not a numeric array of {spec.dtype.name}: {e}") from None
    if not spec.shape.is_compatible_with(array.shape):
        raise BadRequest(f"input {name!r} has shape {list(array.shape)}; the signature expects "
                         f"{spec.shape}")
    return tf.constant(array)


def _input_specs(function):
    specs = function.structured_input_signature[1]
    if not specs:
        raise BadRequest("the signature takes no named inputs")
    return specs


def parse(body, function):
    """Request JSON -> ({input name: tensor}, "row" or "columnar")."""
    specs = _input_specs(function)
    has_instances, has_inputs = "instances" in body, "inputs" in body
    if has_instances == has_inputs:
        raise BadRequest('the request needs exactly one of "instances" (row format) or '
                         '"inputs" (columnar format)')
    if has_instances:
        rows = body["instances"]
        if not isinstance(rows, list) or not rows:
            raise BadRequest('"instances" must be a non-empty list, one entry per example')
        if len(specs) == 1 and not isinstance(rows[0], dict):
            name = next(iter(specs))
            return {name: _tensor(rows, specs[name], name)}, "row"
        if not all(isinstance(r, dict) for r in rows):
            raise BadRequest("with several inputs each instance must be an object of named inputs")
        return {n: _tensor([r.get(n) for r in rows], s, n) for n, s in specs.items()}, "row"
    columns = body["inputs"]
    if not isinstance(columns, dict):
        if len(specs) != 1:
            raise BadRequest(f'"inputs" must name the inputs {sorted(specs)}')
        columns = {next(iter(specs)): columns}
    missing = sorted(set(specs) - set(columns))
    if missing:
        raise BadRequest(f"missing inputs {missing}; the signature takes {sorted(specs)}")
    return {n: _tensor(columns[n], s, n) for n, s in specs.items()}, "columnar"


def respond(outputs, style):
    """Signature outputs -> response JSON in the request's format."""
    arrays = {k: v.numpy() for k, v in outputs.items()}
    if style == "columnar":
        if len(arrays) == 1:
            return {"outputs": next(iter(arrays.values())).tolist()}
        return {"outputs": {k: v.tolist() for k, v in arrays.items()}}
    if len(arrays) == 1:
        return {"predictions": next(iter(arrays.values())).tolist()}
    count = len(next(iter(arrays.values())))
    return {"predictions": [{k: v[i].tolist() for k, v in arrays.items()} for i in range(count)]}


def signature_metadata(function):
    """A signature's inputs and outputs as TF Serving's metadata describes them."""
    def describe(spec):
        dims = [] if spec.shape.rank is None else [{"size": str(-1 if d is None else d)}
                                                   for d in spec.shape.as_list()]
        return {"dtype": types_pb2.DataType.Name(spec.dtype.as_datatype_enum), "tensor_shape": {
            "dim": dims, "unknown_rank": spec.shape.rank is None}, "name": spec.name or ""}
    inputs = {n: describe(s) for n, s in function.structured_input_signature[1].items()}
    outputs = {n: describe(s) for n, s in function.structured_outputs.items()}
    return {"inputs": inputs, "outputs": outputs, "method_name": "tensorflow/serving/predict"}
