"""python -m tfgad.serving --model_base_path=saved_models/NAME --model_name=NAME --port=8501"""
import tfgad  # noqa: F401  (quiet TensorFlow before it is imported)
from absl import app, flags

from tfgad.serving.server import make_server

flags.DEFINE_string("model_base_path", None, "Folder with integer version subfolders.", required=True)
flags.DEFINE_string("model_name", None, "Name in /v1/models/NAME.", required=True)
flags.DEFINE_string("host", "127.0.0.1", "Address to listen on.")
flags.DEFINE_integer("port", 8501, "REST port (TF Serving's default is 8501).")
flags.DEFINE_integer("max_body_bytes", 32 << 20, "Largest request body accepted.")
FLAGS = flags.FLAGS


def main(argv):
    server = make_server(FLAGS.model_name, FLAGS.model_base_path, FLAGS.host, FLAGS.port,
                         FLAGS.max_body_bytes)
    print(f"serving {FLAGS.model_name} from {FLAGS.model_base_path} on "
          f"http://{FLAGS.host}:{FLAGS.port}/v1/models/{FLAGS.model_name}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    app.run(main)
