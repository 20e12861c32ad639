"""The built-in server over loopback: TF Serving's REST and gRPC APIs, batching, versions, faults."""
import concurrent.futures
import csv
import json
import os
import shutil
import socket
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from tfgad import data
from tfgad.export import writer as export
from tfgad.serving import rest
from tfgad.export import warmup
from tfgad.serving.batching import BatchingOptions
from tfgad.serving.registry import NoLoadableVersion
from tfgad.serving.server import ModelServer, ServerOptions


@pytest.fixture(scope="module")
def exported(copy_of_trained_run):
    """This module's copy of the session's trained test run, its export served as "ecg"."""
    config, workdir = copy_of_trained_run
    os.rename(export.target_folder(config), os.path.join(config.export.dir, "ecg"))
    config.export.name = "ecg"
    result = {"export_path": os.path.join(config.export.dir, "ecg", "1"), "workdir": workdir}
    splits, _ = data.load_splits(config, normalize=False)
    with open(os.path.join(workdir, "scores.csv")) as f:
        rows = list(csv.DictReader(f))
    return config, result, splits["test"], rows


def start(config, **options):
    defaults = dict(port=0, grpc_port=0, max_body_bytes=2 << 20, poll_seconds=0.2,
                    read_timeout=2.0)
    return ModelServer("ecg", os.path.join(config.export.dir, "ecg"),
                       ServerOptions(**{**defaults, **options})).start()


@pytest.fixture(scope="module")
def server(exported):
    srv = start(exported[0])
    yield srv
    srv.stop()


def url(srv, path=""):
    return f"http://127.0.0.1:{srv.port}/v1/models/{path}"


def call(address, body=None, raw=None, method=None):
    data_bytes = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(address, data=data_bytes,
                                     method=method or ("POST" if data_bytes else "GET"))
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def raw_request(srv, head: bytes, body: bytes = b"", timeout=10.0):
    """Sends bytes as they are; returns (status, JSON body) of the answer."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=timeout) as s:
        s.sendall(head + body)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, json.loads(answer.split(b"\r\n\r\n", 1)[1] or b"null")


def _length(answer):
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def healthy(srv):
    return call(url(srv, "ecg"))[0] == 200


def test_mode_all_exports_a_versioned_saved_model_with_warmup(exported):
    import tensorflow as tf
    config, result, _, _ = exported
    assert result["export_path"] == os.path.join(config.export.dir, "ecg", "1")
    assert os.path.exists(os.path.join(result["export_path"], "saved_model.pb"))
    from tensorflow_serving.apis import prediction_log_pb2
    records = list(tf.data.TFRecordDataset(os.path.join(result["export_path"], warmup.WARMUP_FILE)))
    log = prediction_log_pb2.PredictionLog.FromString(records[0].numpy())
    assert log.predict_log.request.model_spec.signature_name == "serving_default"
    assert tf.make_ndarray(log.predict_log.request.inputs["x"]).shape == (2, 64, 1)
    assert warmup.replay(tf.saved_model.load(result["export_path"]), result["export_path"]) == 1


def test_row_format_returns_the_scores_of_scores_csv(server, exported):
    _, _, test, rows = exported
    status, body = call(url(server, "ecg:predict"),
                        {"signature_name": "serving_default", "instances": test.x[:10].tolist()})
    assert status == 200
    got = [p["score"] for p in body["predictions"]]
    np.testing.assert_allclose(got, [float(r["score"]) for r in rows[:10]], rtol=1e-4, atol=1e-5)
    assert [int(p["is_anomaly"]) for p in body["predictions"]] == [int(r["prediction"]) for r in rows[:10]]


def test_columnar_format_and_a_named_version(server, exported):
    _, _, test, rows = exported
    status, body = call(url(server, "ecg/versions/1:predict"), {"inputs": {"x": test.x[:5].tolist()}})
    assert status == 200
    np.testing.assert_allclose(body["outputs"]["residual"], [float(r["residual"]) for r in rows[:5]],
                               rtol=1e-4, atol=1e-5)
    status, body = call(url(server, "ecg:predict"),
                        {"signature_name": "generate", "inputs": np.zeros((2, 8)).tolist()})
    assert status == 200 and np.asarray(body["outputs"]).shape == (2, 64, 1)


def test_status_and_metadata(server):
    status, body = call(url(server, "ecg"))
    assert status == 200 and body["model_version_status"][0]["state"] == "AVAILABLE"
    status, body = call(url(server, "ecg/metadata"))
    signatures = body["metadata"]["signature_def"]["signature_def"]
    assert {"serving_default", "latent_search", "score_components", "generate"} <= set(signatures)
    assert signatures["serving_default"]["inputs"]["x"]["dtype"] == "DT_FLOAT"


BEAT = [[0.0]] * 64
# (path, JSON body or raw bytes, expected status, text of the error)
BAD_REQUESTS = [
    ("ecg:predict", b"{not json", 400, "malformed JSON"),
    ("ecg:predict", b"", 400, "malformed JSON"),
    ("ecg:predict", b"[" * 50000 + b"]" * 50000, 400, "nested too deeply"),
    ("ecg:predict", {"instances": [[[0.0]] * 60] * 2}, 400, "shape [64, 1]"),
    ("ecg:predict", {"instances": [[[float("nan")]] * 64]}, 400, "NaN"),
    ("ecg:predict", {"signature_name": "nope", "instances": [BEAT]}, 400, "signature 'nope' not found"),
    ("ecg:predict", {"signature_name": ["serving_default"], "instances": [BEAT]}, 400,
     '"signature_name" must be a string'),
    ("ecg:predict", {"instances": "abc"}, 400, '"instances" must be a non-empty list'),
    ("ecg:predict", {"instances": [[["a"]] * 64]}, 400, "not a rectangular numeric array"),
    ("ecg:predict", {"instances": [BEAT, [[0.0]] * 3]}, 400, "not a rectangular numeric array"),
    ("ecg:predict", {"inputs": {"x": None}}, 400, "must be a (nested) list of numbers"),
    ("ecg:predict", {"inputs": "x"}, 400, "must be a (nested) list of numbers"),
    ("ecg:predict", [1, 2], 400, "must be a JSON object"),
    ("other:predict", {"instances": [BEAT]}, 404, "Servable not found"),
    ("ecg/versions/7:predict", {"instances": [BEAT]}, 404, "available: [1"),
    ("ecg/versions/99999999999999999999:predict", {"instances": [BEAT]}, 404, "no route"),
    ("ecg:predict", {"instances": [BEAT], "inputs": {}}, 400, "exactly one of"),
    ("nowhere/else", None, 404, "no route"),
]


@pytest.mark.parametrize("path,body,status,message", BAD_REQUESTS,
                         ids=[f"{i}-{c[3][:20]}" for i, c in enumerate(BAD_REQUESTS)])
def test_malformed_requests_get_a_json_4xx_and_the_server_keeps_serving(server, path, body,
                                                                        status, message):
    raw = body if isinstance(body, bytes) else None
    got_status, got = call(url(server, path), None if raw is not None else body, raw,
                           "POST" if path.endswith(":predict") else None)
    assert (got_status, message in got["error"]) == (status, True), got
    assert healthy(server)


@pytest.mark.parametrize("head,status,message", [
    (b"PUT /v1/models/ecg HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405, "use GET"),
    (b"DELETE /v1/models/ecg:predict HTTP/1.1\r\nHost: x\r\n\r\n", 405, "use POST"),
    (b"GET /v1/models/ecg:predict HTTP/1.1\r\nHost: x\r\n\r\n", 405, "use POST"),
    (b"POST /v1/models/ecg:predict HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400,
     "malformed HTTP request (400)"),
    (b"POST /v1/models/ecg:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
     413, "99999999999 bytes exceeds the limit"),
    (b"POST /v1/models/ecg:predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     + b"%x\r\n" % (3 << 20) + b"[" * (3 << 20) + b"\r\n0\r\n\r\n", 413, "exceeds the limit"),
], ids=["put", "delete", "get-predict", "content-length-text", "content-length-huge",
        "chunked-too-big"])
def test_methods_and_headers_get_a_json_error(server, head, status, message):
    got_status, got = raw_request(server, head)
    assert got_status == status and message in got["error"], got
    assert healthy(server)


def test_a_client_stalled_in_its_headers_is_dropped_after_the_read_timeout(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as s:
        s.sendall(b"POST /v1/models/ecg:predict HTTP/1.1\r\nHost: x\r\n")  # and then nothing
        started = time.monotonic()
        assert s.recv(1024) == b""  # closed by the server
        assert time.monotonic() - started < 6  # read_timeout is 2 s
    assert healthy(server)


def test_a_client_stalled_in_its_body_gets_a_408(server):
    head = b"POST /v1/models/ecg:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    started = time.monotonic()
    status, body = raw_request(server, head, b'{"instances": ', timeout=15)
    assert status == 408 and "did not arrive within 2 s" in body["error"]
    assert time.monotonic() - started < 6
    assert healthy(server)


def test_200_concurrent_clients_are_all_answered_correctly(server, exported):
    _, _, test, rows = exported
    expected = [float(r["score"]) for r in rows]

    def one(i):
        k = i % 20
        status, body = call(url(server, "ecg:predict"), {"instances": test.x[k:k + 1].tolist()})
        return status, k, body.get("predictions", [{}])[0].get("score")

    calls_before = server.service.batcher.calls
    with concurrent.futures.ThreadPoolExecutor(200) as pool:
        results = list(pool.map(one, range(200)))
    assert [s for s, _, _ in results] == [200] * 200
    for _, k, score in results:  # merged requests give the scores of unbatched ones
        assert score == pytest.approx(expected[k], rel=1e-4, abs=1e-5)
    assert server.service.batcher.calls - calls_before < 200  # requests were merged


def test_grpc_predict_metadata_and_status(server, exported):
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                         model_service_pb2_grpc, predict_pb2,
                                         prediction_service_pb2_grpc)
    _, _, test, rows = exported
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    request = predict_pb2.PredictRequest()  # the README's client
    request.model_spec.name, request.model_spec.signature_name = "ecg", "serving_default"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(test.x[:4].astype(np.float32)))
    response = stub.Predict(request, 30.0)
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["score"]),
                               [float(r["score"]) for r in rows[:4]], rtol=1e-4, atol=1e-5)
    assert response.model_spec.version.value == 1
    metadata = stub.GetModelMetadata(get_model_metadata_pb2.GetModelMetadataRequest(
        model_spec=request.model_spec, metadata_field=["signature_def"]), 30.0)
    signatures = get_model_metadata_pb2.SignatureDefMap()
    metadata.metadata["signature_def"].Unpack(signatures)
    assert "serving_default" in signatures.signature_def
    status = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(
        get_model_status_pb2.GetModelStatusRequest(model_spec=request.model_spec), 30.0)
    assert status.model_version_status[0].state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    request.model_spec.name = "other"
    with pytest.raises(grpc.RpcError) as missing:
        stub.Predict(request, 30.0)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    request.model_spec.name = "ecg"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.full((1, 64, 1), np.nan, np.float32)))
    with pytest.raises(grpc.RpcError) as bad:
        stub.Predict(request, 30.0)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "NaN" in bad.value.details()


def test_a_corrupt_version_never_replaces_the_last_good_one(server, exported):
    config, _, test, _ = exported
    corrupt = os.path.join(config.export.dir, "ecg", "5")
    os.makedirs(corrupt)
    with open(os.path.join(corrupt, "saved_model.pb"), "wb") as f:
        f.write(b"half a copy")
    try:
        assert server.registry.wait_until(lambda s: any(v["version"] == 5 for v in s), 20)
        status, body = call(url(server, "ecg"))
        bad = [v for v in body["model_version_status"] if v["version"] == "5"][0]
        assert bad["state"] == "END" and bad["status"]["error_message"]
        status, answer = call(url(server, "ecg:predict"), {"instances": test.x[:2].tolist()})
        assert status == 200  # the latest good version still serves
        assert call(url(server, "ecg/versions/5:predict"), {"instances": test.x[:2].tolist()})[0] == 404
    finally:
        shutil.rmtree(corrupt)
    assert server.registry.wait_until(lambda s: all(v["version"] != 5 for v in s), 20)


def test_a_new_version_is_served_and_a_removed_one_unloaded(server, exported):
    from tfgad import models, priors
    from tfgad.detection import calibration
    config, result, test, _ = exported
    workdir = result["workdir"]
    model = models.build(config, test.x.shape[1:], priors.from_config(config))  # untrained
    calib = calibration.load(os.path.join(workdir, "calibration.json"))
    norm = json.load(open(os.path.join(workdir, "normalization.json")))
    path = export.export(model, config, calib, norm, test.x.shape[1:])
    assert path.endswith(os.path.join("ecg", "2"))
    assert server.registry.wait_until(lambda s: s and s[0]["version"] == 2
                                      and s[0]["state"] == "AVAILABLE", 30)
    _, v1 = call(url(server, "ecg/versions/1:predict"), {"instances": test.x[:3].tolist()})
    _, v2 = call(url(server, "ecg:predict"), {"instances": test.x[:3].tolist()})
    assert [p["score"] for p in v1["predictions"]] != [p["score"] for p in v2["predictions"]]
    shutil.rmtree(path)
    assert server.registry.wait_until(lambda s: [v["version"] for v in s] == [1], 20)
    assert healthy(server)


def test_batching_off_gives_the_same_answers(exported):
    config, _, test, _ = exported
    plain = start(config, enable_batching=False, grpc_port=-1)
    batched = start(config, batching=BatchingOptions(max_batch_size=8, batch_timeout_micros=50000),
                    grpc_port=-1)
    try:
        def scores(srv, i):
            return call(url(srv, "ecg:predict"), {"instances": test.x[i:i + 1].tolist()})[1]
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            together = list(pool.map(lambda i: scores(batched, i), range(16)))
        alone = [scores(plain, i) for i in range(16)]
        for a, b in zip(alone, together):
            assert a["predictions"][0]["score"] == pytest.approx(b["predictions"][0]["score"],
                                                                 rel=1e-5, abs=1e-6)
            assert a["predictions"][0]["is_anomaly"] == b["predictions"][0]["is_anomaly"]
        assert batched.service.batcher.calls < 16
    finally:
        plain.stop()
        batched.stop()


def test_startup_without_a_loadable_version_is_a_clear_error(tmp_path):
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "saved_model.pb").write_bytes(b"garbage")
    with pytest.raises(NoLoadableVersion, match=r"no loadable version of m under .*version 1: "):
        ModelServer("m", str(tmp_path), ServerOptions(port=0, grpc_port=-1)).start()


def test_nan_outputs_become_json_null():
    body = rest.respond({"score": np.array([1.0, np.nan, np.inf])}, "columnar")
    assert json.loads(rest.encode(body)) == {"outputs": [1.0, None, None]}


def test_requests_queued_for_an_unloaded_version_are_all_answered():
    import asyncio
    import threading
    from tfgad.serving.batching import Batcher, VersionUnloaded
    release = threading.Event()

    def slow_call(inputs):  # the batch in flight when the version is unloaded
        release.wait(10)
        return {"score": inputs["x"][:, 0] * 2}

    async def scenario():
        batcher = Batcher(BatchingOptions(max_batch_size=4, batch_timeout_micros=1000))
        key = (3, "serving_default", ())
        submit = lambda i: batcher.submit(key, slow_call, {"x": np.full((1, 1), float(i))})
        first = [asyncio.ensure_future(submit(i)) for i in range(4)]  # one full batch
        await asyncio.sleep(0.2)  # the batch is in its call now
        waiting = [asyncio.ensure_future(submit(i)) for i in range(4, 150)]
        await asyncio.sleep(0.05)
        batcher.forget(3)
        release.set()
        return await asyncio.wait_for(asyncio.gather(*first, *waiting, return_exceptions=True), 20)

    answers = asyncio.run(scenario())
    assert len(answers) == 150
    assert [float(a["score"][0]) for a in answers[:4]] == [0.0, 2.0, 4.0, 6.0]
    assert all(isinstance(a, VersionUnloaded) for a in answers[4:])
    assert "version 3 was unloaded while this request waited" in str(answers[4])


def test_a_version_caught_mid_copy_loads_once_the_copy_completes(server, exported):
    config, _, test, _ = exported
    source, target = (os.path.join(config.export.dir, "ecg", v) for v in ("1", "7"))
    os.makedirs(target)
    shutil.copy(os.path.join(source, "saved_model.pb"), target)  # the variables still missing
    try:
        assert server.registry.wait_until(
            lambda s: any(v["version"] == 7 and v["state"] == "END" and v["error"] for v in s), 20)
        for entry in os.listdir(source):  # the rest of the copy arrives
            if entry != "saved_model.pb":
                copy = shutil.copytree if os.path.isdir(os.path.join(source, entry)) else shutil.copy
                copy(os.path.join(source, entry), os.path.join(target, entry))
        assert server.registry.wait_until(
            lambda s: any(v["version"] == 7 and v["state"] == "AVAILABLE" for v in s), 30)
        assert call(url(server, "ecg/versions/7:predict"),
                    {"instances": test.x[:1].tolist()})[0] == 200
    finally:
        shutil.rmtree(target)
    assert server.registry.wait_until(lambda s: all(v["version"] != 7 for v in s), 20)


def test_grpc_refuses_a_tensor_larger_than_the_request_limit_before_allocating(server):
    import grpc
    from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
    stub = prediction_service_pb2_grpc.PredictionServiceStub(
        grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}"))
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "ecg"
    shape = tensor_shape_pb2.TensorShapeProto(dim=[
        tensor_shape_pb2.TensorShapeProto.Dim(size=n) for n in (100000, 100000, 1)])
    request.inputs["x"].CopyFrom(tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT,
                                                        tensor_shape=shape))
    assert request.ByteSize() < 40  # a few bytes that declare 37 GiB
    with pytest.raises(grpc.RpcError) as refused:
        stub.Predict(request, 30.0)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert ("declares 10000000000 elements; a request may hold at most 524288 (2097152 bytes, "
            "the server's request-size limit)") in refused.value.details()
    # Complex numbers would silently lose their imaginary part in a float signature.
    request.inputs["x"].CopyFrom(tf_proto(np.zeros((1, 64, 1), np.complex64)))
    with pytest.raises(grpc.RpcError) as complex_input:
        stub.Predict(request, 30.0)
    assert complex_input.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "input 'x' has dtype complex64; the signature takes float32" in \
        complex_input.value.details()
    # Larger messages than REST's body limit are refused by gRPC itself: one limit for both.
    request.inputs["x"].CopyFrom(tf_proto(np.zeros((9000, 64, 1), np.float32)))
    with pytest.raises(grpc.RpcError) as too_big:
        stub.Predict(request, 30.0)
    assert too_big.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert healthy(server)


def tf_proto(array):
    import tensorflow as tf
    return tf.make_tensor_proto(array)
