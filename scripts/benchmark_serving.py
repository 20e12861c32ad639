"""Serving throughput and latency of the built-in server, REST and gRPC, batching off and on.

Usage:
  python scripts/benchmark_serving.py --model encoder=saved_models/aegan-mitbih \
      --model search=saved_models/gan-mitbih [--concurrency=1,16,64,200] [--requests=200]
      [--output=results/serving.json]

A record-normalized export (configs/ecg_new_patients.py) is loaded two ways instead: each
client naming its own record (the server keeps the record's baseline after batching), and
each request carrying its baseline to serving_default (stateless, TF Serving's way).

For each model and batching setting, the server runs as its own process
(python -m tfgad.serving on loopback); this process plays the clients: `concurrency` threads,
each sending single-sample requests one after another, `requests` in all per level (at least
one per client). Reports requests/s, p50 and p99 latency, and how many requests were answered
correctly (200 with a finite score), and writes JSON with a markdown table beside it.
"""
import argparse
import concurrent.futures
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np

import tfgad  # noqa: F401
from tfgad import io_utils
from tfgad.inference import detector as detector_lib


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(path, batching, max_batch_size):
    rest, grpc_port = _free_port(), _free_port()
    command = [sys.executable, "-m", "tfgad.serving", f"--model_base_path={path}", "--model_name=m",
               f"--port={rest}", f"--grpc_port={grpc_port}",
               f"--enable_batching={str(batching).lower()}", f"--max_batch_size={max_batch_size}",
               "--batch_timeout_micros=5000"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    process.stdout.readline()  # "serving m ..." once both ports answer
    return process, rest, grpc_port


def rest_client(port, sample):
    body = json.dumps({"instances": sample.tolist()}).encode()
    address = f"http://127.0.0.1:{port}/v1/models/m:predict"

    def one():
        request = urllib.request.Request(address, data=body, method="POST")
        with urllib.request.urlopen(request, timeout=600) as response:
            return np.isfinite(json.loads(response.read())["predictions"][0]["score"])
    return one


def record_clients(port, sample, columns: int) -> dict:
    """REST clients of a record-normalized export, one body per call in both:
    "stateful" names the client's record (the server keeps its baseline), "stateless" sends
    each row's baseline to serving_default (TF Serving's way; the server holds nothing)."""
    address = f"http://127.0.0.1:{port}/v1/models/m:predict"
    beat = sample[0].tolist()

    def post(body):
        request = urllib.request.Request(address, data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=600) as response:
            return np.isfinite(json.loads(response.read())["predictions"][0]["score"])

    def stateful():
        return post({"instances": [beat], "record": f"client-{threading.get_ident()}"})

    def stateless():
        return post({"instances": [{"x": beat, "record_location": [0.0] * columns,
                                    "record_scale": [1.0] * columns}]})
    return {"rest+records": stateful, "rest stateless": stateless}


def grpc_client(port, sample):
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
    stub = prediction_service_pb2_grpc.PredictionServiceStub(
        grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 1 << 26)]))
    request = predict_pb2.PredictRequest()
    request.model_spec.name, request.model_spec.signature_name = "m", "serving_default"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(sample.astype(np.float32)))

    def one():
        response = stub.Predict(request, 600.0)
        return np.isfinite(tf.make_ndarray(response.outputs["score"])[0])
    return one


def _beat(info):
    """One request's sample: zeros, or for ECG beats a smooth QRS-like bump (zeros are a flat
    lead, which is reported and not scored)."""
    sample = np.zeros((1, *info.sample_shape), np.float32)
    if info.input.get("kind") == "ecg_beats":
        t = np.linspace(-1, 1, info.sample_shape[0])
        sample[0, :, 0] = 1.5 * np.exp(-(t / 0.05) ** 2)
    return sample


def load(one, concurrency, requests):
    requests = max(requests, concurrency)
    per_client = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]
    latencies, answered = [], 0

    def client(count):
        out = []
        for _ in range(count):
            start = time.perf_counter()
            try:
                ok = bool(one())
            except Exception:
                ok = False
            out.append((time.perf_counter() - start, ok))
        return out

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        for result in pool.map(client, per_client):
            latencies += [t for t, _ in result]
            answered += sum(ok for _, ok in result)
    seconds = time.perf_counter() - started
    return {"requests": requests, "answered": answered, "seconds": seconds,
            "requests_per_second": requests / seconds,
            "p50_ms": 1000 * float(np.percentile(latencies, 50)),
            "p99_ms": 1000 * float(np.percentile(latencies, 99))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="LABEL=EXPORT_PATH")
    parser.add_argument("--concurrency", default="1,16,64,200")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--protocols", default="rest,grpc")
    parser.add_argument("--max_batch_size", type=int, default=64)
    parser.add_argument("--batching", default="off,on", help="off, on or both")
    parser.add_argument("--output", default="results/serving.json")
    args = parser.parse_args(argv)
    args.batching = [b == "on" for b in args.batching.split(",")]
    rows = []
    for spec in args.model:
        label, path = spec.split("=", 1)
        info = detector_lib.ExportInfo(path)
        sample = _beat(info)
        for batching in args.batching:
            process, rest_port, grpc_port = start_server(path, batching, args.max_batch_size)
            try:
                clients = {p: (rest_client(rest_port, sample) if p == "rest"
                               else grpc_client(grpc_port, sample))
                           for p in args.protocols.split(",")}
                if "record_baseline" in info.metadata:  # a record-normalized export
                    clients = record_clients(rest_port, sample,
                                             len(info.metadata["record_baseline"]["columns"]))
                for protocol, one in clients.items():
                    one()  # warm
                    for concurrency in [int(c) for c in args.concurrency.split(",")]:
                        row = {"model": label, "scorer": info.scorer, "batching": batching,
                               "protocol": protocol, "concurrency": concurrency,
                               **load(one, concurrency, args.requests)}
                        rows.append(row)
                        print(row, flush=True)
            finally:
                process.terminate()
                process.wait(30)
    result = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count()}, "rows": rows}
    io_utils.write_text(args.output, json.dumps(result, indent=2))
    lines = ["| model | protocol | batching | clients | answered | req/s | p50 ms | p99 ms |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['model']} ({r['scorer']}) | {r['protocol']} | {'on' if r['batching'] else 'off'} | "
              f"{r['concurrency']} | {r['answered']}/{r['requests']} | {r['requests_per_second']:.1f} | "
              f"{r['p50_ms']:.0f} | {r['p99_ms']:.0f} |" for r in rows]
    io_utils.write_text(os.path.splitext(args.output)[0] + ".md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
