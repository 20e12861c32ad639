"""TF Serving's REST request and response formats, for one signature of a SavedModel."""
import json
import math

import numpy as np
from tensorflow.core.framework import types_pb2


class BadRequest(ValueError):
    """The request cannot be answered as sent; the server answers 400."""


def _array(value, spec, name):
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise BadRequest(f"input {name!r} must be a (nested) list of numbers, not "
                         f"{type(value).__name__}")
    try:
        array = np.asarray(value, dtype=spec.dtype.as_numpy_dtype)
    except (TypeError, ValueError, RecursionError) as e:
        reason = "nested too deeply" if isinstance(e, RecursionError) else str(e).splitlines()[0]
        raise BadRequest(f"input {name!r} is not a rectangular numeric array of "
                         f"{spec.dtype.name}: {reason}") from None
    check_shape(name, spec, array.shape)
    return array


def check_shape(name: str, spec, shape) -> None:
    """BadRequest naming what one example must look like when shape does not fit spec."""
    if spec.shape.is_compatible_with(shape):
        return
    dims = [-1 if d is None else d for d in spec.shape.as_list()]
    raise BadRequest(f"input {name!r} has shape {list(shape)}; each example must have shape "
                     f"{dims[1:]} (the signature takes {dims})")


def input_specs(function) -> dict:
    specs = function.structured_input_signature[1]
    if not specs:
        raise BadRequest("the signature takes no named inputs")
    return specs


def decode(body: bytes) -> dict:
    """The request body as a JSON object, or BadRequest saying what is wrong with it."""
    try:
        value = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadRequest(f"malformed JSON: {e}") from None
    except RecursionError:
        raise BadRequest("malformed JSON: nested too deeply") from None
    if not isinstance(value, dict):
        raise BadRequest("the request body must be a JSON object")
    name = value.get("signature_name", "serving_default")
    if not isinstance(name, str):
        raise BadRequest(f'"signature_name" must be a string, not {type(name).__name__}')
    return value


def named_inputs(body: dict) -> set:
    """The input names a request body gives by name (none for a bare row list)."""
    if isinstance(body.get("inputs"), dict):
        return set(body["inputs"])
    rows = body.get("instances")
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        return set(rows[0])
    return set()


def parse(body: dict, function) -> tuple:
    """Request JSON -> ({input name: numpy array}, "row" or "columnar")."""
    specs = input_specs(function)
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
            return {name: _array(rows, specs[name], name)}, "row"
        if not all(isinstance(r, dict) for r in rows):
            raise BadRequest("with several inputs each instance must be an object of named inputs")
        return {n: _array([r.get(n) for r in rows], s, n) for n, s in specs.items()}, "row"
    columns = body["inputs"]
    if not isinstance(columns, dict):
        if len(specs) != 1:
            raise BadRequest(f'"inputs" must name the inputs {sorted(specs)}')
        columns = {next(iter(specs)): columns}
    missing = sorted(set(specs) - set(columns))
    if missing:
        raise BadRequest(f"missing inputs {missing}; the signature takes {sorted(specs)}")
    return {n: _array(columns[n], s, n) for n, s in specs.items()}, "columnar"


def _json_safe(value):
    """Lists of numbers with NaN and inf as null: JSON has no token for them."""
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def respond(arrays: dict, style: str) -> dict:
    """Signature outputs {name: numpy array} -> response JSON in the request's format."""
    lists = {k: _json_safe(np.asarray(v).tolist()) for k, v in arrays.items()}
    if style == "columnar":
        if len(lists) == 1:
            return {"outputs": next(iter(lists.values()))}
        return {"outputs": lists}
    if len(lists) == 1:
        return {"predictions": next(iter(lists.values()))}
    count = len(next(iter(lists.values())))
    return {"predictions": [{k: v[i] for k, v in lists.items()} for i in range(count)]}


def encode(body: dict) -> bytes:
    """JSON bytes; strict, so that no NaN token ever leaves the server."""
    return json.dumps(body, allow_nan=False).encode()


def signature_metadata(function) -> dict:
    """A signature's inputs and outputs as TF Serving's metadata describes them."""
    def describe(spec):
        dims = [] if spec.shape.rank is None else [{"size": str(-1 if d is None else d)}
                                                   for d in spec.shape.as_list()]
        return {"dtype": types_pb2.DataType.Name(spec.dtype.as_datatype_enum), "tensor_shape": {
            "dim": dims, "unknown_rank": spec.shape.rank is None}, "name": spec.name or ""}
    inputs = {n: describe(s) for n, s in function.structured_input_signature[1].items()}
    outputs = {n: describe(s) for n, s in function.structured_outputs.items()}
    return {"inputs": inputs, "outputs": outputs, "method_name": "tensorflow/serving/predict"}
