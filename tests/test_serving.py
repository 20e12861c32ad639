"""The TF-Serving-compatible REST server over loopback: formats, errors, concurrency, new versions."""
import concurrent.futures
import csv
import json
import os
import urllib.error
import urllib.request

import numpy as np
import pytest

from tfgad import data, train_lib
from tfgad.serving.server import make_server, serve_in_thread


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from configs import test
    config = test.get_config()
    workdir = tmp_path_factory.mktemp("served")
    config.export.dir, config.export.name = str(workdir / "saved_models"), "ecg"
    result = train_lib.train_and_evaluate(config, str(workdir), "all")
    splits, _ = data.load_splits(config, normalize=False)
    with open(workdir / "scores.csv") as f:
        rows = list(csv.DictReader(f))
    return config, result, splits["test"], rows


@pytest.fixture(scope="module")
def server(exported):
    config, _, _, _ = exported
    srv = make_server("ecg", os.path.join(config.export.dir, "ecg"), port=0, max_body_bytes=2 << 20)
    serve_in_thread(srv)
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def call(url, body=None, raw=None):
    data_bytes = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data_bytes, method="POST" if data_bytes else "GET")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_mode_all_exports_a_versioned_saved_model(exported):
    config, result, _, _ = exported
    assert result["export_path"] == os.path.join(config.export.dir, "ecg", "1")
    assert os.path.exists(os.path.join(result["export_path"], "saved_model.pb"))


def test_row_format_returns_the_scores_of_scores_csv(server, exported):
    _, _, test, rows = exported
    status, body = call(f"{server}/v1/models/ecg:predict",
                        {"signature_name": "serving_default", "instances": test.x[:10].tolist()})
    assert status == 200
    got = [p["score"] for p in body["predictions"]]
    np.testing.assert_allclose(got, [float(r["score"]) for r in rows[:10]], rtol=1e-4, atol=1e-5)
    assert [int(p["is_anomaly"]) for p in body["predictions"]] == [int(r["prediction"]) for r in rows[:10]]


def test_columnar_format_and_a_named_version(server, exported):
    _, _, test, rows = exported
    status, body = call(f"{server}/v1/models/ecg/versions/1:predict", {"inputs": {"x": test.x[:5].tolist()}})
    assert status == 200
    np.testing.assert_allclose(body["outputs"]["residual"], [float(r["residual"]) for r in rows[:5]],
                               rtol=1e-4, atol=1e-5)
    status, body = call(f"{server}/v1/models/ecg:predict",
                        {"signature_name": "generate", "inputs": np.zeros((2, 8)).tolist()})
    assert status == 200 and np.asarray(body["outputs"]).shape == (2, 64, 1)


def test_status_and_metadata(server):
    status, body = call(f"{server}/v1/models/ecg")
    assert status == 200 and body["model_version_status"][0]["state"] == "AVAILABLE"
    status, body = call(f"{server}/v1/models/ecg/metadata")
    signatures = body["metadata"]["signature_def"]["signature_def"]
    assert {"serving_default", "latent_search", "score_components", "generate"} <= set(signatures)
    assert signatures["serving_default"]["inputs"]["x"]["dtype"] == "DT_FLOAT"


@pytest.mark.parametrize("path,body,raw,status,message", [
    ("ecg:predict", None, b"{not json", 400, "malformed JSON"),
    ("ecg:predict", {"instances": np.zeros((2, 60, 1)).tolist()}, None, 400, "shape [64, 1]"),
    ("ecg:predict", {"instances": [[[float("nan")]] * 64]}, None, 400, "NaN"),
    ("ecg:predict", {"signature_name": "nope", "instances": [[[0.0]] * 64]}, None, 400,
     "signature 'nope' not found"),
    ("other:predict", {"instances": [[[0.0]] * 64]}, None, 404, "Servable not found"),
    ("ecg/versions/7:predict", {"instances": [[[0.0]] * 64]}, None, 404, "versions: [1"),
    ("ecg:predict", {"instances": [[[0.0]] * 64], "inputs": {}}, None, 400, "exactly one of"),
    ("ecg:predict", None, b"[" + b"0.0," * 600000 + b"0.0]", 413, "exceeds the limit"),
])
def test_bad_requests_get_a_clear_4xx_and_the_server_keeps_serving(server, path, body, raw,
                                                                   status, message):
    got_status, got = call(f"{server}/v1/models/{path}", body, raw)
    assert got_status == status
    assert message in got["error"]
    assert call(f"{server}/v1/models/ecg")[0] == 200


def test_concurrent_requests_are_all_answered_correctly(server, exported):
    _, _, test, rows = exported
    expected = [float(r["score"]) for r in rows]

    def one(i):
        k = i % 20
        status, body = call(f"{server}/v1/models/ecg:predict", {"instances": test.x[k:k + 1].tolist()})
        return status, k, body["predictions"][0]["score"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(200)))
    assert all(status == 200 for status, _, _ in results)
    for _, k, score in results:
        assert score == pytest.approx(expected[k], rel=1e-4, abs=1e-5)


def test_a_new_version_is_served_without_restart(server, exported):
    from tfgad import export, models, priors
    from tfgad.detection import calibration
    config, _, test, _ = exported
    workdir = os.path.dirname(config.export.dir)
    model = models.build(config, test.x.shape[1:], priors.from_config(config))  # untrained: other scores
    calib = calibration.load(os.path.join(workdir, "calibration.json"))
    norm = json.load(open(os.path.join(workdir, "normalization.json")))
    path = export.export(model, config, calib, norm, test.x.shape[1:])
    assert path.endswith(os.path.join("ecg", "2"))
    status, body = call(f"{server}/v1/models/ecg")
    assert body["model_version_status"][0]["version"] == "2"
    status, v1 = call(f"{server}/v1/models/ecg/versions/1:predict", {"instances": test.x[:3].tolist()})
    status, v2 = call(f"{server}/v1/models/ecg:predict", {"instances": test.x[:3].tolist()})
    assert status == 200
    assert [p["score"] for p in v1["predictions"]] != [p["score"] for p in v2["predictions"]]
