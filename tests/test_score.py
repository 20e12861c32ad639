"""Scoring new data with an export: records (with and without annotations), arrays, images,
the Python API, Beam on the DirectRunner, and one-line errors."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tfgad
from tests.conftest import MITDB, ROOT
from tfgad import score as score_cli
from tfgad import run
from tfgad.errors import UserError
from tfgad.data import mitbih


def export_of(config, tmp_path_factory, name):
    config.train.epochs = 1
    config.export.dir = str(tmp_path_factory.mktemp("saved"))
    config.export.name = name
    workdir = str(tmp_path_factory.mktemp(name))
    return run.train_and_evaluate(config, workdir, "all")["export_path"]


@pytest.fixture(scope="module")
def ecg_export(tmp_path_factory):
    """A tiny AE-GAN trained on two MIT-BIH records, exported."""
    if not os.path.isdir(MITDB):
        pytest.skip("MIT-BIH copy not found")
    from tfgad.configs import test
    config = test.get_config()
    config.model.name = "aegan"
    config.data.name, config.data.dir = "mitbih", MITDB
    config.data.records, config.data.max_samples = "101,103", 1500
    return export_of(config, tmp_path_factory, "ecg")


@pytest.fixture(scope="module")
def digits_export(tmp_path_factory):
    from tfgad.configs import test
    config = test.get_config()
    config.model.name, config.data.name = "aegan", "digits"
    return export_of(config, tmp_path_factory, "digits")


@pytest.fixture(scope="module")
def scored_record(ecg_export, tmp_path_factory):
    output = str(tmp_path_factory.mktemp("scored"))
    report = score_cli.run([f"--model={os.path.dirname(ecg_export)}",
                            f"--input={os.path.join(MITDB, '100')}", f"--output={output}"])
    return output, report


def read_csv(path):
    import csv
    with open(path) as f:
        return list(csv.DictReader(f))


def test_a_record_is_scored_beat_by_beat_as_in_training(ecg_export, scored_record):
    output, report = scored_record
    rows = read_csv(os.path.join(output, "scores.csv"))
    detector = tfgad.load(os.path.dirname(ecg_export))  # the latest version
    window = (detector.input["window_before"], detector.input["window_after"])
    signal, peaks, classes = mitbih.read_record(os.path.join(MITDB, "100"), "MLII", True)
    beats, keep = mitbih.cut_beats(signal, peaks, *window)  # the training data path
    assert [int(r["sample"]) for r in rows] == peaks[keep].tolist()
    assert [r["annotation"] for r in rows] == classes[keep].tolist()
    assert float(rows[10]["time_s"]) == pytest.approx(peaks[keep][10] / 360.0, abs=1e-4)
    expected = detector.score(beats[..., None])
    np.testing.assert_allclose([float(r["score"]) for r in rows], expected.score, rtol=1e-5,
                               atol=1e-5)
    assert [int(r["is_anomaly"]) for r in rows] == expected.is_anomaly.astype(int).tolist()
    for name in detector.components:
        np.testing.assert_allclose([float(r[name]) for r in rows], expected.components[name],
                                   rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose([float(r["p_value"]) for r in rows], expected.p_value, rtol=1e-5)
    entry = report["sources"][0]
    assert entry["peaks_from"] == "annotations" and entry["samples"] == len(rows)
    assert entry["flagged"] == int(expected.is_anomaly.sum())
    # Record 100 is 30:06 of signal (650,000 samples at 360 Hz): alarms are flagged beats/hour.
    assert entry["hours"] == pytest.approx(650000 / 360 / 3600)
    assert entry["alarms_per_hour"] == pytest.approx(entry["flagged"] / entry["hours"])
    assert report["alarms_per_hour"] == pytest.approx(entry["alarms_per_hour"])
    assert os.path.getsize(os.path.join(output, "plots", "100.png")) > 1000


def test_the_annotation_file_reads_back_with_wfdb(scored_record):
    import wfdb
    output, _ = scored_record
    rows = read_csv(os.path.join(output, "scores.csv"))
    flagged = [int(r["sample"]) for r in rows if r["is_anomaly"] == "1"]
    assert flagged, "the tiny model flags some beats of record 100"
    annotation = wfdb.rdann(os.path.join(output, "100"), "tfgad")
    assert annotation.sample.tolist() == flagged
    assert all(note.startswith("tfgad anomaly score") for note in annotation.aux_note)


def test_a_record_without_annotations_gets_its_peaks_from_xqrs(ecg_export, tmp_path):
    for ext in ("hea", "dat"):
        shutil.copy(os.path.join(MITDB, f"100.{ext}"), tmp_path / f"100.{ext}")
    beats, result = tfgad.load(ecg_export).score_record(str(tmp_path / "100"))
    assert beats.peak_source == "xqrs" and len(result) == len(beats.peaks)
    annotated, _ = mitbih.read_beat_annotations(os.path.join(MITDB, "100"))
    found = np.sort(beats.peaks)
    nearest = np.abs(found[np.clip(np.searchsorted(found, annotated), 0, len(found) - 1)]
                     - annotated)
    before = np.abs(found[np.clip(np.searchsorted(found, annotated) - 1, 0, len(found) - 1)]
                    - annotated)
    recovered = np.minimum(nearest, before) <= 0.05 * 360  # within 50 ms
    assert recovered.mean() > 0.98


def test_arrays_score_like_the_same_beats_of_a_record(ecg_export, scored_record, tmp_path):
    output, _ = scored_record
    detector = tfgad.load(ecg_export)
    beats = detector.score_record(os.path.join(MITDB, "100"))[0]
    np.savez(tmp_path / "beats.npz", x=beats.x[:300])
    np.save(tmp_path / "beats.npy", beats.x[:300, :, 0])  # (N, L): one channel is implied
    for name in ("beats.npz", "beats.npy"):
        out = tmp_path / name.replace(".", "_")
        score_cli.run([f"--model={ecg_export}", f"--input={tmp_path / name}", f"--output={out}"])
        rows = read_csv(out / "scores.csv")
        record_rows = read_csv(os.path.join(output, "scores.csv"))[:300]
        # Equal to float32 precision: the record was scored in other batches than the array,
        # and a batch's composition moves the last printed digit.
        np.testing.assert_allclose([float(r["score"]) for r in rows],
                                   [float(r["score"]) for r in record_rows], rtol=1e-5, atol=1e-5)
        assert [r["is_anomaly"] for r in rows] == [r["is_anomaly"] for r in record_rows]
        assert {r["source"] for r in rows} == {name}


def test_an_image_folder_is_scored_like_its_arrays(digits_export, tmp_path):
    import tensorflow as tf
    from sklearn.datasets import load_digits
    images = (load_digits().images[:12] / 16.0 * 255).round().astype(np.uint8)[..., None]
    folder = tmp_path / "images"
    folder.mkdir()
    for i, image in enumerate(images):
        tf.io.write_file(str(folder / f"digit{i:02d}.png"), tf.io.encode_png(image))
    score_cli.run([f"--model={digits_export}", f"--input={folder}", f"--output={tmp_path / 'out'}"])
    rows = read_csv(tmp_path / "out" / "scores.csv")
    assert [r["file"] for r in rows] == [f"digit{i:02d}.png" for i in range(12)]
    expected = tfgad.load(digits_export).score(images.astype(np.float32) / 255.0)
    # float32 noise only: the folder and the array go through different batch shapes
    np.testing.assert_allclose([float(r["score"]) for r in rows], expected.score, rtol=1e-5,
                               atol=1e-5)


def test_the_python_api_exposes_threshold_settings_and_numpy_results(ecg_export):
    detector = tfgad.load(ecg_export)
    assert detector.version == 1 and detector.sample_shape == (64, 1)
    assert detector.threshold == pytest.approx(detector.metadata["calibration"]["threshold"])
    assert detector.scorer == "encoder" and detector.search_settings["n_max"] == 20
    assert detector.input["lead"] == "MLII" and detector.input["remove_baseline"] is True
    x = np.random.default_rng(0).normal(size=(5, 64)).astype(np.float32)
    result = detector.score(x)
    assert isinstance(result.score, np.ndarray) and result.score.shape == (5,)
    assert result.is_anomaly.dtype == bool
    np.testing.assert_array_equal(result.is_anomaly, result.score >= detector.threshold)
    assert sorted(result.components) == detector.components


@pytest.fixture(scope="module")
def record_folder(tmp_path_factory):
    """Records 100, 102 (no MLII lead) and 103 in one folder."""
    folder = tmp_path_factory.mktemp("records")
    for record in ("100", "102", "103"):
        for ext in ("hea", "dat", "atr"):
            shutil.copy(os.path.join(MITDB, f"{record}.{ext}"), folder / f"{record}.{ext}")
    return str(folder)


@pytest.fixture(scope="module")
def scored_folder(ecg_export, record_folder, tmp_path_factory):
    """The local path on record_folder: (output folder, exit code, stderr lines)."""
    output = str(tmp_path_factory.mktemp("scored_folder"))
    result = subprocess.run([sys.executable, "-m", "tfgad.score", f"--model={ecg_export}",
                             f"--input={record_folder}", f"--output={output}", "--no_plots"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    return output, result.returncode, result.stderr.strip().splitlines()


def test_a_folder_is_scored_whole_and_a_record_without_the_lead_is_skipped(scored_folder):
    output, code, err = scored_folder
    assert code == score_cli.EXIT_PARTIAL == 3
    warnings = [line for line in err if line.startswith(("warning:", "partial:"))]
    assert warnings == [
        "warning: skipping 102: record 102 has leads ['V5', 'V2'], not 'MLII'; the model was "
        "trained on lead MLII: score records that have it, or give --lead=NAME where it is "
        "named otherwise",
        "partial: 1 of 3 sources skipped (102); see summary.json"]
    rows = read_csv(os.path.join(output, "scores.csv"))
    assert [r["source"] for r in rows if r["index"] == "0"] == ["100", "103"]
    import json
    summary = json.load(open(os.path.join(output, "summary.json")))
    assert [s["source"] for s in summary["sources"]] == ["100", "103"]
    assert summary["skipped"][0]["source"] == "102" and "has leads" in summary["skipped"][0]["reason"]
    assert summary["samples"] == len(rows)


def test_lead_reads_the_models_lead_under_another_name(ecg_export, record_folder, tmp_path):
    report = score_cli.run([f"--model={ecg_export}", f"--input={record_folder}/102",
                            f"--output={tmp_path}", "--lead=V5", "--no_plots"])
    assert report["sources"][0]["source"] == "102" and report["samples"] > 2000
    assert report["skipped"] == []


def test_rows_scored_before_a_crash_are_written(ecg_export, record_folder, tmp_path,
                                                monkeypatch):
    from tfgad.inference import inputs
    read = inputs.read

    def crash_on_103(source, detector, lead=None, causal=False):
        if source.name == "103":
            raise RuntimeError("disk gone")
        return read(source, detector, lead, causal)
    monkeypatch.setattr(inputs, "read", crash_on_103)
    with pytest.raises(RuntimeError, match="disk gone"):
        score_cli.run([f"--model={ecg_export}", f"--input={record_folder}",
                       f"--output={tmp_path}", "--no_plots"])
    rows = read_csv(tmp_path / "scores.csv")
    assert {r["source"] for r in rows} == {"100"} and len(rows) > 2000


def beam_scores(ecg_export, record_folder, output, *runner_args):
    report = score_cli.run([f"--model={ecg_export}", f"--input={record_folder}",
                            f"--output={output}", *runner_args])
    return report, open(os.path.join(output, "scores.csv")).read()


def test_beam_direct_runner_writes_the_local_paths_rows_and_skips_the_same(
        ecg_export, record_folder, scored_folder, tmp_path):
    pytest.importorskip("apache_beam")
    report, text = beam_scores(ecg_export, record_folder, tmp_path, "--runner=DirectRunner")
    assert text == open(os.path.join(scored_folder[0], "scores.csv")).read()
    assert [s["source"] for s in report["skipped"]] == ["102"]
    assert not os.path.exists(tmp_path / ".beam-parts")


def test_beam_fails_loudly_when_a_runner_loses_rows(ecg_export, record_folder, tmp_path,
                                                    monkeypatch):
    pytest.importorskip("apache_beam")
    from tfgad.inference import beam
    process = beam.ScoreChunks.process

    def drop_the_second_chunk(self, element):  # what a runner that loses output leaves
        if element[1] == 1:
            return iter(())
        return process(self, element)
    monkeypatch.setattr(beam.ScoreChunks, "process", drop_the_second_chunk)
    from tfgad.errors import UserError
    with pytest.raises(UserError, match=r"the Beam runner lost output of 2 source\(s\): "
                                        r"100 \(2016 of 2272 rows\), 103 "):
        beam_scores(ecg_export, record_folder, tmp_path, "--runner=DirectRunner")


@pytest.mark.slow
def test_beam_on_a_two_worker_dask_cluster_gives_the_local_rows(ecg_export, record_folder,
                                                                scored_folder, tmp_path):
    pytest.importorskip("apache_beam")
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, processes=True) as cluster:
        report, text = beam_scores(ecg_export, record_folder, tmp_path, "--runner=DaskRunner",
                                   f"--dask_client_address={cluster.scheduler_address}")
        distributed.default_client().close()  # the runner's client, before its cluster
    assert text == open(os.path.join(scored_folder[0], "scores.csv")).read()
    assert report["runner"].endswith("DaskRunner")


@pytest.mark.parametrize("case", ["missing_model", "wrong_shape", "missing_lead", "empty_folder",
                                  "record_for_an_image_model"])
def test_bad_scoring_input_gets_one_line(ecg_export, digits_export, tmp_path, capsys, case):
    model, data = ecg_export, None
    if case == "missing_model":
        model, data, message = str(tmp_path / "nothing"), os.path.join(MITDB, "100"), "does not exist"
    elif case == "wrong_shape":
        np.save(tmp_path / "x.npy", np.zeros((4, 50, 1), np.float32))
        data, message = str(tmp_path / "x.npy"), "samples have shape (50, 1); the model expects (64, 1)"
    elif case == "missing_lead":
        for ext in ("hea", "dat", "atr"):
            shutil.copy(os.path.join(MITDB, f"102.{ext}"), tmp_path / f"102.{ext}")
        data, message = str(tmp_path / "102"), "record 102 has leads ['V5', 'V2'], not 'MLII'"
    elif case == "empty_folder":
        (tmp_path / "empty").mkdir()
        data, message = str(tmp_path / "empty"), "holds no WFDB records (*.hea), .npz/.npy arrays"
    else:
        model, data = digits_export, os.path.join(MITDB, "100")
        message = "this model was trained on digits data, not on beats of WFDB records"
    with pytest.raises(SystemExit) as stopped:
        score_cli.main([f"--model={model}", f"--input={data}", f"--output={tmp_path / 'out'}"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err


def test_importing_tfgad_leaves_the_matplotlib_backend_alone():
    code = ("import matplotlib; matplotlib.use('svg'); import tfgad.training.train_lib, tfgad.inference.outputs, "
            "tfgad.evaluation.plots; print(matplotlib.get_backend())")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=120)
    assert result.stdout.strip() == "svg", result.stderr[-1000:]


@pytest.mark.slow
def test_scoring_benchmark_writes_its_table(ecg_export, tmp_path):
    pytest.importorskip("apache_beam")
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import benchmark_scoring
    out = tmp_path / "scoring.json"
    benchmark_scoring.main(["--model", f"encoder={ecg_export}", "--record",
                            os.path.join(MITDB, "100"), "--repeats=1", "--workers=1",
                            "--dask_workers=1", f"--output={out}"])
    import json
    rows = json.loads(out.read_text())["rows"]
    assert [r["path"] for r in rows] == ["local", "beam DirectRunner, 1 worker(s)",
                                         "beam DaskRunner, 1 worker(s)"]
    beats = len(tfgad.load(ecg_export).score_record(os.path.join(MITDB, "100"))[0].peaks)
    assert all(r["beats"] == beats > 2000 and r["beats_per_second"] > 0 for r in rows)
    assert f"| encoder | encoder | local | {beats} |" in (tmp_path / "scoring.md").read_text()


def test_bad_calls_of_a_loaded_export_get_one_line(ecg_export):
    from tfgad.errors import UserError
    detector = tfgad.load(ecg_export)
    x = np.zeros((10, 64, 1), np.float32)
    with pytest.raises(UserError, match=r"samples hold no samples \(shape \(0, 64, 1\)\); give "
                                        "at least one"):
        detector.score(x[:0])
    for size in (0, -1):
        with pytest.raises(UserError, match=f"batch_size={size}; give a positive number"):
            detector.score(x, batch_size=size)
    with pytest.raises(UserError, match="samples have dtype complex64; the model needs real numbers"):
        detector.score(x + 1j)


@pytest.mark.parametrize("damage,message", [
    ("{not json", "is not valid JSON .*the export is damaged or half-copied"),
    ('{"name": "ecg"}', "lacks sample_shape, calibration: the export is incomplete"),
    ('{"sample_shape": [64, 1], "calibration": {}}', "lacks calibration.threshold")])
def test_a_damaged_export_metadata_file_is_named(ecg_export, tmp_path, damage, message):
    from tfgad.errors import UserError
    from tfgad.export.format import METADATA_PATH
    copy = tmp_path / "ecg" / "1"
    shutil.copytree(ecg_export, copy)
    (copy / METADATA_PATH).write_text(damage)
    with pytest.raises(UserError, match=message):
        tfgad.load(str(tmp_path / "ecg"))


@pytest.mark.parametrize("case", ["empty_array", "output_is_a_file", "output_not_writable"])
def test_bad_outputs_and_empty_inputs_of_the_command_get_one_line(ecg_export, tmp_path, capsys,
                                                                  case):
    np.save(tmp_path / "x.npy", np.zeros((3, 64, 1), np.float32))
    data, output = tmp_path / "x.npy", tmp_path / "out"
    if case == "empty_array":
        np.save(tmp_path / "empty.npy", np.zeros((0, 64, 1), np.float32))
        data, message = tmp_path / "empty.npy", "samples hold no samples (shape (0, 64, 1))"
    elif case == "output_is_a_file":
        output.write_text("")
        message = f"--output={output} is a file; give a folder"
    else:
        output = "/proc/tfgad-out"  # a file system nobody can create folders in, even root
        message = "cannot write to --output=/proc/tfgad-out ("
    with pytest.raises(SystemExit) as stopped:
        score_cli.main([f"--model={ecg_export}", f"--input={data}", f"--output={output}"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_the_record_plot_shows_the_highest_scoring_flagged_beats():
    from tfgad.inference import outputs
    from tfgad.inference.detector import ScoreResult
    result = ScoreResult(np.array([5.0, 9.0, 1.0, 7.0, 8.0], np.float32),
                         np.array([True, True, False, False, True]), {})
    # Beat 3 scores 7 but is not flagged (below the threshold of a robust record, say).
    assert outputs.top_flagged(result, 2).tolist() == [1, 4]
    assert outputs.top_flagged(result, 8).tolist() == [1, 4, 0]


def test_a_second_run_into_the_same_output_is_refused_or_replaces_the_first(ecg_export, tmp_path):
    output = str(tmp_path / "out")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "my_notes.txt").write_text("keep me")
    args = [f"--model={ecg_export}", f"--output={output}"]
    score_cli.run(args + [f"--input={os.path.join(MITDB, '100')}"])
    assert os.path.isfile(os.path.join(output, "100.tfgad"))
    with pytest.raises(UserError, match=r"holds another scoring run's results \(100.tfgad, "
                                        r"plots, scores.csv, summary.json\); give a new folder, "
                                        r"or --overwrite"):
        score_cli.run(args + [f"--input={os.path.join(MITDB, '103')}"])
    report = score_cli.run(args + [f"--input={os.path.join(MITDB, '103')}", "--overwrite"])
    assert [s["source"] for s in report["sources"]] == ["103"]
    assert sorted(os.listdir(output)) == ["103.tfgad", "my_notes.txt", "plots", "scores.csv",
                                          "summary.json"]
    assert os.listdir(os.path.join(output, "plots")) == ["103.png"]
    rows = read_csv(os.path.join(output, "scores.csv"))
    assert {r["source"] for r in rows} == {"103"}


def test_score_takes_absl_style_booleans_like_the_other_commands():
    args, _ = score_cli.parse(["--model=m", "--input=i", "--output=o", "--stream=true",
                               "--no_plots=false", "--nooverwrite"])
    assert args.stream and not args.no_plots and not args.overwrite
    args, _ = score_cli.parse(["--model=m", "--input=i", "--output=o", "--stream", "--overwrite=1"])
    assert args.stream and args.overwrite
