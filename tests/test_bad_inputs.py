"""Bad inputs, table-driven through the command line: exit code 2, one line naming the culprit,
no traceback. The table runs in this process (tfgad.main's own parse_flags and main); a few cases
also run as real processes, as a user sees them."""
import os
import shutil
import stat
import zipfile

import numpy as np
import pytest

from tests.conftest import MITDB
from tests.run_cli import run_main, run_main_in_process


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def _bad_member(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", b"not an array")
        z.writestr("y.npy", b"not an array either")
    return str(path)


def _broken_record(root, name, mutate):
    """A copy of MIT-BIH record 100 in root/name/, broken by mutate(folder)."""
    folder = root / name
    folder.mkdir()
    for ext in ("hea", "dat", "atr"):
        shutil.copy(os.path.join(MITDB, f"100.{ext}"), folder / f"100.{ext}")
    mutate(folder)
    return str(folder)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    x = np.random.default_rng(0).normal(size=(40, 16, 1)).astype(np.float32)
    y = np.r_[np.zeros(30), np.ones(10)]
    f = {
        "empty_npz": _write(d / "empty.npz", b""),
        "random_npz": _write(d / "random.npz", np.random.default_rng(1).bytes(300)),
        "npy_as_npz": str(d / "single.npz"),
        "bad_member_npz": _bad_member(d / "member.npz"),
        "length_mismatch": _npz(d / "mismatch.npz", x=x, y=y[:-3]),
        "text_x": _npz(d / "text_x.npz", x=np.array([["a"] * 16] * 40), y=y),
        "text_groups": _npz(d / "text_groups.npz", x=x, y=y, groups=np.array(["p"] * 40)),
        "no_y": _npz(d / "no_y.npz", x=x),
        "no_samples": _npz(d / "none.npz", x=x[:0], y=y[:0]),
        "labels_2": _npz(d / "labels.npz", x=x, y=np.r_[y[:-1], 2]),
        "nan_x": _npz(d / "nan.npz", x=np.where(np.arange(40)[:, None, None] == 7, np.nan, x), y=y),
        "all_anomalies": _npz(d / "anomalies.npz", x=x, y=np.ones(40)),
        "one_normal": _npz(d / "one_normal.npz", x=x, y=np.r_[np.zeros(2), np.ones(38)]),
        "a_file": _write(d / "workdir_is_a_file", b"x"),
        "grouped": _npz(d / "grouped.npz", x=x, y=y, groups=np.arange(40) % 8),
    }
    with open(f["npy_as_npz"], "wb") as handle:
        np.save(handle, x)
    if os.path.isdir(MITDB):
        records = d / "records"
        records.mkdir()

        def truncate(folder):
            data = open(folder / "100.dat", "rb").read()
            _write(folder / "100.dat", data[: len(data) // 3])
        f["mitdb_truncated"] = _broken_record(records, "truncated", truncate)
        f["mitdb_empty_dat"] = _broken_record(records, "empty", lambda p: _write(p / "100.dat", b""))
        f["mitdb_no_dat"] = _broken_record(records, "no_dat", lambda p: os.remove(p / "100.dat"))
        f["mitdb_no_atr"] = _broken_record(records, "no_atr", lambda p: os.remove(p / "100.atr"))
        f["mitdb_bad_hea"] = _broken_record(
            records, "bad_hea", lambda p: _write(p / "100.hea", b"garbage header\nline two\n"))
        f["mitdb_empty_hea"] = _broken_record(records, "empty_hea", lambda p: _write(p / "100.hea", b""))
    return f


ARRAYS = ["--config.data.name=arrays"]
# (id, arguments after --config=configs/test.py (files[...] filled in), text the error must hold)
CASES = [
    ("misspelt_field", ["--config.train.epoch=3"],
     "no field train.epoch; did you mean train.epochs? fields of train: batch_size, beta_1"),
    ("misspelt_section", ["--config.trian.epochs=3"], "no field trian; did you mean train?"),
    ("bad_type", ["--config.train.epochs=abc"], "--config.train.epochs=abc"),
    ("unknown_model", ["--config.model.name=stylegan"], "unknown model.name 'stylegan'; known: aegan"),
    ("negative_seed", ["--config.seed=-1"], "seed=-1; must be >= 0"),
    ("negative_max_samples", ["--config.data.max_samples=-5"], "data.max_samples=-5; must be >= 0"),
    ("negative_detection_max", ["--config.detection.max_samples=-1"],
     "detection.max_samples=-1; must be >= 0"),
    ("negative_eps", ["--config.search.eps=-0.1"], "search.eps=-0.1; must be >= 0"),
    ("zero_weights", ["--config.detection.weights.residual=0"],
     "every detection.weights entry of detection.components"),
    ("component_of_another_model", ["--config.detection.components=residual,kl"],
     "'kl' is not a score component of model.name=gan"),
    ("joint_discriminator_features", ["--config.model.name=bigan", "--config.search.feature_weight=0.1"],
     "bigan's D(x, z) needs z too"),
    ("encoder_scorer_without_encoder", ["--config.detection.scorer=encoder"],
     "detection.scorer=encoder needs a model with an encoder; gan has none"),
    ("encoder_start_without_encoder", ["--config.search.init_from_encoder=True"],
     "search.init_from_encoder needs a model with an encoder; gan has none"),
    ("missing_config_file", ["--config=configs/nope.py"], "config file configs/nope.py does not exist"),
    ("contamination_too_high", ["--config.data.contamination=1.5"], "data.contamination=1.5"),
    ("val_fraction", ["--config.data.val_fraction=1.5"], "data.val_fraction=1.5"),
    ("mitbih_missing_dir", ["--config.data.name=mitbih", "--config.data.dir=/nonexistent"],
     "tfgad download mitbih"),
    ("missing_npz", ARRAYS + ["--config.data.path=/nonexistent.npz"], "data.path='/nonexistent.npz' is not a file"),
    ("empty_npz", ARRAYS + ["--config.data.path={empty_npz}"], "empty.npz is empty"),
    ("random_npz", ARRAYS + ["--config.data.path={random_npz}"], "random.npz is not a zip file"),
    ("npy_as_npz", ARRAYS + ["--config.data.path={npy_as_npz}"], "single.npz holds one .npy array"),
    ("bad_member_npz", ARRAYS + ["--config.data.path={bad_member_npz}"],
     "member.npz is not a readable .npz archive"),
    ("length_mismatch", ARRAYS + ["--config.data.path={length_mismatch}"],
     "y in {length_mismatch} has 37 entries but x has 40 samples"),
    ("text_x", ARRAYS + ["--config.data.path={text_x}"], "x in {text_x} has dtype <U1; it must be numeric"),
    ("text_groups", ARRAYS + ["--config.data.path={text_groups}"], "groups in {text_groups} has dtype"),
    ("no_y", ARRAYS + ["--config.data.path={no_y}"], "lacks arrays ['y']"),
    ("no_samples", ARRAYS + ["--config.data.path={no_samples}"], "holds no samples"),
    ("labels_2", ARRAYS + ["--config.data.path={labels_2}"], "expected 0 (normal) / 1 (anomaly)"),
    ("nan_x", ARRAYS + ["--config.data.path={nan_x}"], "1 samples hold NaN or inf (first at index 7)"),
    ("no_normal_samples", ARRAYS + ["--config.data.path={all_anomalies}"], "train split"),
    ("one_normal_sample", ARRAYS + ["--config.data.path={one_normal}"],
     "the train split holds 1 normal sample(s)"),
    ("inter_val_without_anomalies", ARRAYS + ["--config.data.path={grouped}", "--config.data.protocol=inter",
                                              "--config.data.anomaly_val_fraction=0"],
     "holds no anomaly, but detection.threshold=max_mcc fit on labelled anomalies"),
    ("workdir_is_a_file", ["--workdir={a_file}"], "is a file, not a folder"),
    ("workdir_not_creatable", ["--workdir=/proc/tfgad-run"], "cannot create --workdir=/proc/tfgad-run"),
    ("mitbih_truncated_dat", ["--config.data.name=mitbih", "--config.data.dir={mitdb_truncated}"],
     "record 100: cannot read {mitdb_truncated}/100.hea and its signal file: its signal file is shorter"),
    ("mitbih_empty_dat", ["--config.data.name=mitbih", "--config.data.dir={mitdb_empty_dat}"],
     "record 100: cannot read {mitdb_empty_dat}/100.hea and its signal file: its signal file is shorter"),
    ("mitbih_missing_dat", ["--config.data.name=mitbih", "--config.data.dir={mitdb_no_dat}"],
     "record 100: cannot read {mitdb_no_dat}/100.hea and its signal file: 100.dat is missing"),
    ("mitbih_missing_atr", ["--config.data.name=mitbih", "--config.data.dir={mitdb_no_atr}"],
     "record 100: cannot read the beat annotations {mitdb_no_atr}/100.atr: 100.atr is missing"),
    ("mitbih_corrupt_hea", ["--config.data.name=mitbih", "--config.data.dir={mitdb_bad_hea}"],
     "record 100: cannot read {mitdb_bad_hea}/100.hea and its signal file: HeaderSyntaxError"),
    ("mitbih_empty_hea", ["--config.data.name=mitbih", "--config.data.dir={mitdb_empty_hea}"],
     "record 100: cannot read {mitdb_empty_hea}/100.hea and its signal file: its header is empty"),
]


def _needs_mitdb(case):
    return any("{mitdb" in part for part in case[1] + [case[2]])


def _arguments(case, files, root):
    name, args, _ = case
    args = [a.format(**files) for a in args]
    workdir = [] if any(a.startswith("--workdir") for a in args) else [f"--workdir={root}/{name}"]
    config = [] if any(a.startswith("--config=") for a in args) else ["--config=configs/test.py"]
    return [*config, *workdir, f"--config.export.dir={root}/saved", *args]


@pytest.fixture(scope="module")
def outcomes(files, tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    runnable = [c for c in CASES if os.path.isdir(MITDB) or not _needs_mitdb(c)]
    return {case[0]: run_main_in_process(*_arguments(case, files, root)) for case in runnable}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_line(files, outcomes, case):
    name, _, message = case
    if name not in outcomes:
        pytest.skip("MIT-BIH copy not found")
    result = outcomes[name]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert len(errors) == 1, result.stderr[-2000:]
    assert message.format(**files) in errors[0]


# A flag error and a data error, each in a real process (the table runs them in this one).
IN_A_PROCESS = ["misspelt_field", "nan_x"]


@pytest.mark.parametrize("name", IN_A_PROCESS)
def test_a_real_process_exits_2_with_one_line_and_no_traceback(files, tmp_path, name):
    case = next(c for c in CASES if c[0] == name)
    result = run_main(*_arguments(case, files, tmp_path), timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and case[2].format(**files) in errors[0], result.stderr[-2000:]


def test_no_training_output_is_written_for_a_refused_config(tmp_path):
    result = run_main_in_process("--config=configs/test.py", f"--workdir={tmp_path}/run",
                                 "--config.seed=-1")
    assert result.returncode == 2
    assert not os.path.exists(tmp_path / "run" / "config.json")


def test_outputs_are_readable_by_others_as_the_umask_allows(tmp_path):
    from tfgad import io_utils
    old = os.umask(0o022)
    try:
        io_utils.write_text(str(tmp_path / "a.json"), "{}")
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.stat(tmp_path / "a.json").st_mode)
    assert mode & ~io_utils._UMASK == 0o666 & ~io_utils._UMASK
    assert mode & stat.S_IROTH or io_utils._UMASK & 0o004
