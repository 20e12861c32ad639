"""The scripts: TF Serving config writer, and the benchmarks in their --quick smoke mode."""
import json
import os
import subprocess
import sys

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from tests.conftest import ROOT
from tfgad import train_lib

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import tf_serving_config  # noqa: E402


def run_script(name, *args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", name), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


def test_tf_serving_config_round_trips_through_the_protos(tmp_path):
    out = tmp_path / "models.config"
    tf_serving_config.main(["--model", "ecg=/models/ecg", "--model", "img=/models/img",
                            "--output", str(out)])
    parsed = text_format.Parse(out.read_text(), model_server_config_pb2.ModelServerConfig())
    entries = parsed.model_config_list.config
    assert [(e.name, e.base_path, e.model_platform) for e in entries] == [
        ("ecg", "/models/ecg", "tensorflow"), ("img", "/models/img", "tensorflow")]
    assert entries[0].model_version_policy.latest.num_versions == 1


def test_tf_serving_config_rejects_a_malformed_model():
    with pytest.raises(SystemExit):
        tf_serving_config.main(["--model", "no-equals-sign"])


def test_latent_search_benchmark_quick(tmp_path):
    out = tmp_path / "ls.json"
    result = run_script("benchmark_latent_search.py", "--quick", "--config=configs/test.py",
                        f"--output={out}")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    assert {(r["batch"], r["xla"]) for r in rows} == {(1, False), (1, True), (8, False), (8, True)}
    assert all(r["ms_per_sample_median"] > 0 for r in rows)


def test_inference_benchmark_quick(tmp_path, test_config):
    test_config.model.name, test_config.train.epochs = "bigan", 1
    workdir = tmp_path / "run"
    train_lib.train_and_evaluate(test_config, str(workdir), "train")
    out = tmp_path / "inference.json"
    result = run_script("benchmark_inference.py", f"--workdir={workdir}", "--quick",
                        f"--output={out}")
    assert result.returncode == 0, result.stderr[-2000:]
    kinds = {r["kind"] for r in json.loads(out.read_text())["rows"]}
    assert kinds == {"tfgad_search", "python_loop", "encoder"}
    assert "| python_loop |" in result.stdout
