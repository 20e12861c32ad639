"""Writes a TF Serving models.config for one or more exported tfgad models.

Usage:
  python scripts/tf_serving_config.py --model ecg=/models/gan-synthetic_ecg \
      [--model other=/models/other] [--all_versions] --output models.config
Then: tensorflow_model_server --model_config_file=models.config --rest_api_port=8501 --port=8500
Paths are as TF Serving sees them (inside its container, when it runs in docker).
"""
import argparse

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from tfgad import io_utils


def build_config(models, all_versions=False):
    """models: [(name, base_path)] -> ModelServerConfig."""
    config = model_server_config_pb2.ModelServerConfig()
    for name, base_path in models:
        entry = config.model_config_list.config.add()
        entry.name, entry.base_path, entry.model_platform = name, base_path, "tensorflow"
        if all_versions:
            entry.model_version_policy.all.SetInParent()
        else:
            entry.model_version_policy.latest.num_versions = 1
    return config


def parse_model(text):
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"--model {text!r}: expected NAME=BASE_PATH")
    return name, path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=parse_model, required=True,
                        help="NAME=BASE_PATH, where BASE_PATH holds integer version folders")
    parser.add_argument("--all_versions", action="store_true", help="serve every version")
    parser.add_argument("--output", default="models.config")
    args = parser.parse_args(argv)
    text = text_format.MessageToString(build_config(args.model, args.all_versions))
    io_utils.write_text(args.output, text)
    print(text, end="")


if __name__ == "__main__":
    main()
