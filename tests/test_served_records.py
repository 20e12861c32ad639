"""New patients as they are scored in use: an export normalized per record, served with
batching on. A record's beats sent one by one, named by record, while other clients send other
records, get the offline streaming scores; lone beats are scored by the global calibration;
flat leads are reported as no signal."""
import concurrent.futures
import json
import os
import threading
import urllib.request

import numpy as np
import pytest

import tfgad
from tfgad import run
from tfgad import score as score_cli
from tfgad.serving.server import ModelServer, ServerOptions
from tests.conftest import MITDB

WARMUP = 8


@pytest.fixture(scope="module")
def record_export(tmp_path_factory):
    """A tiny AE-GAN with rhythm channels on MIT-BIH beats, its score normalized per record."""
    if not os.path.isdir(MITDB):
        pytest.skip("MIT-BIH copy not found")
    from tfgad.configs import test
    config = test.get_config()
    config.model.name = "aegan"
    config.data.name, config.data.dir = "mitbih", MITDB
    config.data.records, config.data.max_samples = "101,103,119", 2400
    config.data.rhythm_features = True
    config.detection.components = "residual,discrimination,rr_pre,rr_post"
    config.detection.record_normalization = "robust"
    config.detection.record_warmup, config.detection.record_window = WARMUP, 64
    config.export.dir = str(tmp_path_factory.mktemp("saved"))
    config.export.name = "patients"
    workdir = str(tmp_path_factory.mktemp("patients"))
    metrics = run.train_and_evaluate(config, workdir, "all")
    path = metrics["export_path"]
    detector = tfgad.load(path)
    beats = detector.score_record(os.path.join(MITDB, "100"), stream=True)[0]  # causal RR
    return path, detector, beats, metrics


@pytest.fixture(scope="module")
def server(record_export):
    base = os.path.dirname(record_export[0])
    srv = ModelServer("patients", base, ServerOptions(port=0, grpc_port=0, poll_seconds=60)).start()
    yield srv
    srv.stop()


def predict(srv, instances, record=None):
    body = {"instances": np.asarray(instances).tolist()}
    if record is not None:
        body["record"] = record
    request = urllib.request.Request(
        f"http://127.0.0.1:{srv.port}/v1/models/patients:predict",
        data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())["predictions"]


def with_other_clients(srv, beats, work, clients=40, per_client=15):
    """Runs work() while `clients` threads send other records' beats, one per request."""
    done = threading.Event()

    def other(i):
        for n in range(per_client):
            if done.is_set():
                return n
            k = (7 * i + n) % len(beats.x)
            predict(srv, beats.x[k:k + 1], record=f"other-{i}")
        return per_client

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(other, i) for i in range(clients)]
        try:
            result = work()
        finally:
            done.set()
        sent = sum(f.result() for f in futures)
    return result, sent


def test_a_record_sent_beat_by_beat_among_40_clients_equals_the_offline_stream(
        server, record_export, tmp_path):
    path, detector, beats, _ = record_export
    count = 40
    calls_before = server.service.batcher.calls
    served, sent = with_other_clients(
        server, beats, lambda: [predict(server, beats.x[i:i + 1], record="100")[0]
                                for i in range(count)])
    assert sent > 0 and server.service.batcher.calls - calls_before < count + sent  # merged
    offline = detector.score(beats.x[:count], stream=True)
    np.testing.assert_allclose([p["score"] for p in served], offline.score, rtol=1e-4, atol=1e-4)
    # The p-value too, warming-up beats against the global calibration's normal scores.
    np.testing.assert_allclose([p["p_value"] for p in served], offline.p_value, rtol=1e-4)
    assert np.array(served[0]["anomaly_map"]).shape == (beats.x.shape[1],)
    assert [p["baseline"] for p in served] == list(offline.baseline)
    assert [p["baseline"] for p in served][:WARMUP] == ["warming_up"] * WARMUP
    assert served[WARMUP]["baseline"] == "stream" and served[WARMUP]["baseline_beats"] == WARMUP
    assert all(p["quality"] == "ok" for p in served)
    # tfgad.score --stream on the record gives the same rows.
    output = str(tmp_path / "stream")
    score_cli.run([f"--model={path}", f"--input={os.path.join(MITDB, '100')}",
                   f"--output={output}", "--stream", "--no_plots"])
    with open(os.path.join(output, "scores.csv")) as f:
        import csv
        rows = list(csv.DictReader(f))[:count]
    np.testing.assert_allclose([float(r["score"]) for r in rows], offline.score, rtol=1e-5,
                               atol=1e-5)
    assert [r["baseline"] for r in rows] == list(offline.baseline)


def test_an_8x_beat_scores_the_same_alone_and_among_other_clients(server, record_export):
    _, detector, beats, _ = record_export
    history, big = beats.x[:20], beats.x[20:21].copy()
    big[..., 0] *= 8.0
    sequence = np.concatenate([history, big])

    def send(record):
        return [predict(server, sequence[i:i + 1], record=record)[0] for i in range(21)][-1]

    alone = send("quiet")
    among, _ = with_other_clients(server, beats, lambda: send("busy"))
    assert among["score"] == pytest.approx(alone["score"], rel=1e-5, abs=1e-5)
    assert alone["quality"] == "amplitude" and alone["is_anomaly"]
    # Without a record: the beat is scored by the global calibration, the same every time.
    lone = [predict(server, big)[0] for _ in range(2)]
    lone_among, _ = with_other_clients(server, beats, lambda: predict(server, big)[0])
    assert lone[0]["baseline"] == "warming_up"
    assert lone[0]["score"] == lone[1]["score"] == pytest.approx(lone_among["score"], rel=1e-5)
    offline = detector.score(big, stream=True)
    assert lone[0]["score"] == pytest.approx(float(offline.score[0]), rel=1e-4, abs=1e-4)


def test_one_beat_requests_differ_by_the_beat_and_flat_beats_are_no_signal(server, record_export):
    _, _, beats, _ = record_export
    normal, v_like = beats.x[:1], beats.x[1:2].copy()
    v_like[..., 0] = -2 * v_like[..., 0]
    assert predict(server, normal)[0]["score"] != predict(server, v_like)[0]["score"]
    flat = np.zeros((34,) + beats.x.shape[1:], np.float32)
    flat[..., 0] = 0.5
    answers = predict(server, flat, record="lead-off")
    assert {a["quality"] for a in answers} == {"flat"}
    assert all(a["score"] is None and a["is_anomaly"] is False for a in answers)
    # A recorder's gap: JSON has no NaN, so it arrives as null; that beat is not scored.
    gap = beats.x[:2].tolist()
    gap[0][10][0] = None
    answers = predict(server, gap, record="gappy")
    assert [a["quality"] for a in answers] == ["nan_gap", "ok"]
    assert answers[0]["score"] is None and answers[1]["score"] is not None


def test_grpc_names_the_record_as_a_string_input(server, record_export):
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
    _, detector, beats, _ = record_export
    stub = prediction_service_pb2_grpc.PredictionServiceStub(
        grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}"))
    scores, baselines = [], []
    for i in range(12):
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "patients"
        request.inputs["x"].CopyFrom(tf.make_tensor_proto(beats.x[i:i + 1]))
        request.inputs["record"].CopyFrom(tf.make_tensor_proto("grpc-100"))
        response = stub.Predict(request, 60.0)
        scores.append(float(tf.make_ndarray(response.outputs["score"])[0]))
        baselines.append(tf.make_ndarray(response.outputs["baseline"])[0].decode())
    offline = detector.score(beats.x[:12], stream=True)
    np.testing.assert_allclose(scores, offline.score, rtol=1e-4, atol=1e-4)
    assert baselines == list(offline.baseline)


def test_the_stateless_signatures_give_the_offline_whole_record_scores(record_export):
    import tensorflow as tf
    path, detector, beats, _ = record_export
    model = tf.saved_model.load(path)
    x = beats.x[:200]
    baseline = model.signatures["record_baseline"](beats=tf.constant(x[None]))
    rows = {k: tf.repeat(v, len(x), axis=0) for k, v in baseline.items()}
    served = model.signatures["serving_default"](x=tf.constant(x), **rows)
    offline = detector.score(x)  # one record, its whole baseline
    assert set(offline.baseline) == {"record"}
    np.testing.assert_allclose(served["score"].numpy(), offline.score, rtol=1e-4, atol=1e-4)
    cold = model.signatures["score_without_baseline"](x=tf.constant(x[:3]))
    lone = [detector.score(x[i:i + 1], stream=True).score[0] for i in range(3)]
    np.testing.assert_allclose(cold["score"].numpy(), lone, rtol=1e-4, atol=1e-4)


def test_a_flat_record_is_reported_as_no_signal(record_export, tmp_path):
    import wfdb
    path, _, _, _ = record_export
    folder = tmp_path / "flat"
    folder.mkdir()
    signal = np.full((34 * 300 + 600, 1), 0.5)
    wfdb.wrsamp("flat", fs=360, units=["mV"], sig_name=["MLII"], p_signal=signal,
                fmt=["212"], write_dir=str(folder))
    peaks = np.arange(300, 300 + 34 * 300, 300)
    wfdb.wrann("flat", "atr", peaks, symbol=["N"] * len(peaks), write_dir=str(folder))
    output = str(tmp_path / "out")
    report = score_cli.run([f"--model={path}", f"--input={folder / 'flat'}",
                            f"--output={output}", "--no_plots"])
    assert report["no_signal_sources"] == ["flat"] and report["flagged"] == 0
    assert report["sources"][0]["signal"] == "no_signal"
    assert report["quality"]["flat"] == report["samples"] > 0


def test_a_record_normalized_run_reports_streamed_test_metrics(record_export):
    metrics = record_export[3]
    stream = metrics["test_stream"]
    assert 0.0 <= stream["auroc"] <= 1.0 and stream["settings"] == {"window": 64,
                                                                     "warmup": WARMUP}
    # Intra-patient test holds beats of 3 records: each warms up on its first beats.
    assert stream["warming_up"] == 3 * WARMUP
    assert stream["auroc"] != metrics["test"]["auroc"]
