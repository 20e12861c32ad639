"""TF Serving's gRPC API (PredictionService Predict and GetModelMetadata, ModelService
GetModelStatus) with tensorflow-serving-api's generated servicers, over the same Service."""
import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from tfgad.serving import records, rest
from tfgad.serving.batching import QueueFull, VersionUnloaded
from tfgad.serving.registry import ModelNotFound

_STATES = {"AVAILABLE": get_model_status_pb2.ModelVersionStatus.AVAILABLE,
           "END": get_model_status_pb2.ModelVersionStatus.END}


def _version(spec):
    return spec.version.value if spec.HasField("version") else None


async def _guard(context, work):
    """Runs work(); maps the server's errors to gRPC status codes."""
    try:
        return await work()
    except ModelNotFound as e:
        await context.abort(grpc.StatusCode.NOT_FOUND, str(e))
    except rest.BadRequest as e:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
    except QueueFull as e:
        await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(e))
    except VersionUnloaded as e:
        await context.abort(grpc.StatusCode.UNAVAILABLE, str(e))


def _record(request) -> str | None:
    """The record a Predict request names: a string (or integer) input "record" of one value."""
    if records.RECORD_FIELD not in request.inputs:
        return None
    try:
        values = np.asarray(tf.make_ndarray(request.inputs[records.RECORD_FIELD])).reshape(-1)
    except (TypeError, ValueError) as e:
        raise rest.BadRequest(f"unreadable input 'record': {e}") from None
    if len(values) != 1:
        raise rest.BadRequest(f"input 'record' holds {len(values)} values; send one record id "
                              "per request")
    value = values[0]
    return records.record_id(value.item() if isinstance(value, np.generic) else value)


def check_tensor_size(name: str, proto, max_bytes: int) -> None:
    """Refuses an input tensor whose declared shape holds more bytes than a request may carry
    (the REST body limit), from the shape alone: a 30-byte message can declare
    [100000, 100000, 1], and converting it would allocate 37 GiB."""
    elements = 1
    for dim in proto.tensor_shape.dim:
        if dim.size < 0:
            raise rest.BadRequest(f"input {name!r} has a negative dimension ({dim.size})")
        elements *= dim.size
    itemsize = tf.dtypes.as_dtype(proto.dtype).size if proto.dtype else 4
    limit = max_bytes // max(itemsize, 1)
    if elements > limit:
        raise rest.BadRequest(f"input {name!r} declares {elements} elements; a request may hold "
                              f"at most {limit} ({max_bytes} bytes, the server's request-size "
                              "limit); send smaller batches")


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):

    def __init__(self, service, max_bytes: int = 32 << 20):
        self.service, self.max_bytes = service, max_bytes

    async def Predict(self, request, context):  # noqa: N802 - the proto's names
        async def work():
            spec = request.model_spec
            record = _record(request)
            route = self.service.route(spec.name, _version(spec), spec.signature_name,
                                       set(request.inputs) - {records.RECORD_FIELD})
            version, signature_name, function, plan = route
            specs = rest.input_specs(plan.function if plan else function)
            missing = sorted(set(specs) - set(request.inputs))
            if missing:
                raise rest.BadRequest(f"missing inputs {missing}; the signature takes {sorted(specs)}")
            for n in specs:
                check_tensor_size(n, request.inputs[n], self.max_bytes)
                sent, wanted = request.inputs[n].dtype, specs[n].dtype
                if sent != wanted.as_datatype_enum:  # TF Serving refuses them too
                    raise rest.BadRequest(f"input {n!r} has dtype "
                                          f"{tf.dtypes.as_dtype(sent).name}; the signature "
                                          f"takes {wanted.name}")
            try:
                inputs = {n: np.asarray(tf.make_ndarray(request.inputs[n]),
                                        specs[n].dtype.as_numpy_dtype) for n in specs}
            except (TypeError, ValueError) as e:
                raise rest.BadRequest(f"unreadable input tensor: {e}") from None
            outputs = await self.service.answer(route, inputs, record)
            response = predict_pb2.PredictResponse()
            response.model_spec.name = spec.name
            response.model_spec.version.value = version
            response.model_spec.signature_name = signature_name
            for key, value in outputs.items():
                response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
            return response
        return await _guard(context, work)

    async def GetModelMetadata(self, request, context):  # noqa: N802
        async def work():
            spec = request.model_spec
            metadata = self.service.metadata(spec.name, _version(spec))
            response = get_model_metadata_pb2.GetModelMetadataResponse()
            response.model_spec.name = spec.name
            response.model_spec.version.value = int(metadata["model_spec"]["version"])
            signatures = get_model_metadata_pb2.SignatureDefMap()
            _, model = self.service.registry.get(spec.name, _version(spec))
            for key, function in model.signatures.items():
                signatures.signature_def[key].method_name = "tensorflow/serving/predict"
                for n, s in function.structured_input_signature[1].items():
                    info = signatures.signature_def[key].inputs[n]
                    info.name, info.dtype = n, s.dtype.as_datatype_enum
                for n, s in function.structured_outputs.items():
                    info = signatures.signature_def[key].outputs[n]
                    info.name, info.dtype = n, s.dtype.as_datatype_enum
            response.metadata["signature_def"].Pack(signatures)
            return response
        return await _guard(context, work)


class ModelService(model_service_pb2_grpc.ModelServiceServicer):

    def __init__(self, service):
        self.service = service

    async def GetModelStatus(self, request, context):  # noqa: N802
        async def work():
            spec = request.model_spec
            response = get_model_status_pb2.GetModelStatusResponse()
            for v in self.service.registry.status(spec.name, _version(spec)):
                status = response.model_version_status.add()
                status.version, status.state = v["version"], _STATES[v["state"]]
                if v["error"]:
                    status.status.error_code = 2  # UNKNOWN
                    status.status.error_message = v["error"]
            return response
        return await _guard(context, work)


def make_server(service, host: str, port: int, max_bytes: int = 32 << 20):
    """A grpc.aio server with both services, bound to host:port (0: any free port), taking
    messages of up to max_bytes (REST's body limit: one request-size limit for both)."""
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", max_bytes)])
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(service, max_bytes), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(service), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    return server, bound

