"""python -m tfgad.serving --model_base_path=saved_models/NAME --model_name=NAME [--port=8501]
[--grpc_port=8500] [--enable_batching] [--max_batch_size=64] [--batch_timeout_micros=2000]
[--max_records=10000] [--record_idle_seconds=3600]"""
import signal
import sys
import threading

import tfgad  # noqa: F401  (quiet TensorFlow before it is imported)
from absl import app, flags

flags.DEFINE_string("model_base_path", None, "Folder with integer version subfolders.", required=True)
flags.DEFINE_string("model_name", None, "Name in /v1/models/NAME.", required=True)
flags.DEFINE_string("host", "127.0.0.1", "Address to listen on.")
flags.DEFINE_integer("port", 8501, "REST port (TF Serving's default is 8501).")
flags.DEFINE_integer("grpc_port", 8500, "gRPC port (TF Serving's default is 8500); -1: off.")
flags.DEFINE_integer("max_body_bytes", 32 << 20, "Largest request body accepted.")
flags.DEFINE_float("read_timeout", 30.0, "Seconds a client may stall sending a request.")
flags.DEFINE_bool("enable_batching", True, "Merge concurrent requests into batches.")
flags.DEFINE_integer("max_batch_size", 64, "Samples in one merged call.")
flags.DEFINE_integer("batch_timeout_micros", 2000, "How long a batch waits for more requests.")
flags.DEFINE_integer("max_enqueued", 1000, "Waiting requests per queue before 503s.")
flags.DEFINE_integer("max_records", 10000, "Records (patients) whose score baseline the server "
                     "holds per model version; the least recently heard from goes first.")
flags.DEFINE_float("record_idle_seconds", 3600.0, "A record not heard from this long is "
                   "forgotten (its next beats warm up again).")
flags.DEFINE_float("drain_seconds", 10.0, "On SIGTERM or SIGINT: stop accepting, then answer "
                   "the accepted and queued requests within this many seconds, and exit 0.")
flags.DEFINE_float("poll_seconds", 1.0, "How often the model folder is checked for versions.")
FLAGS = flags.FLAGS


def main(argv):
    from tfgad.errors import UserError
    from tfgad.serving.batching import BatchingOptions
    from tfgad.serving.records import RecordOptions
    from tfgad.serving.registry import NoLoadableVersion
    from tfgad.serving.server import ModelServer, ServerOptions
    try:
        records = RecordOptions(FLAGS.max_records, FLAGS.record_idle_seconds)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    options = ServerOptions(
        FLAGS.host, FLAGS.port, FLAGS.grpc_port, FLAGS.max_body_bytes,
        read_timeout=FLAGS.read_timeout, enable_batching=FLAGS.enable_batching,
        batching=BatchingOptions(FLAGS.max_batch_size, FLAGS.batch_timeout_micros,
                                 FLAGS.max_enqueued),
        poll_seconds=FLAGS.poll_seconds,
        records=records, drain_seconds=FLAGS.drain_seconds)
    try:
        server = ModelServer(FLAGS.model_name, FLAGS.model_base_path, options).start()
    except (NoLoadableVersion, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    grpc = f", gRPC on {FLAGS.host}:{server.grpc_port}" if server.grpc_port else ""
    print(f"serving {FLAGS.model_name} from {FLAGS.model_base_path}: REST on "
          f"http://{FLAGS.host}:{server.port}/v1/models/{FLAGS.model_name}{grpc}", flush=True)
    stopping = threading.Event()

    def on_signal(signum, frame):
        if stopping.is_set():
            print(f"got signal {signum} again; still draining (at most {FLAGS.drain_seconds:g} s)",
                  file=sys.stderr, flush=True)
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    while not stopping.is_set() and not server.wait(0.5):
        pass
    print(f"stopping: no new requests; answering the accepted ones (at most "
          f"{FLAGS.drain_seconds:g} s)", file=sys.stderr, flush=True)
    server.stop()
    print("stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    app.run(main)
