"""Distributed training: replica semantics (2 logical CPUs) and multi-worker runs (2 processes)."""
import csv
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from tests import crashing_worker, replica_equivalence
from tfgad.training import cluster, train_lib, workdir as workdir_lib
from tfgad import run
from tfgad.errors import UserError


@pytest.fixture(scope="module")
def equivalence(tmp_path_factory):
    """tests/replica_equivalence.py's figures, from one fresh process for every family."""
    out = tmp_path_factory.mktemp("replicas") / "equivalence.json"
    done = subprocess.run([sys.executable, "-m", "tests.replica_equivalence", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(out) as f:
        return json.load(f)


@pytest.mark.slow
def test_replicas_draw_different_latents_that_together_are_one_devices_draw(equivalence):
    assert equivalence["draws"]["replicas_differ"]
    assert equivalence["draws"]["matches_one_device"] < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("family", replica_equivalence.FAMILIES)
def test_two_replicas_train_like_one_device_with_the_global_batch(equivalence, family):
    figures = equivalence[family]
    # The check is sensitive: the steps moved the weights by far more than the tolerance
    # (unscaled gradients were off by 0.03, local batch means by 0.006).
    assert figures["update"] > 0.1
    assert figures["weight_diff"] < 1e-5, figures
    assert figures["log_diff"] < 1e-5, figures


def loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
        return True
    except OSError:
        return False


def launch(tmp, worker_module, *flags, env=None):
    """scripts/launch_workers.py --workers=2 -- python -m worker_module --config=configs/test.py
    --config.train.strategy=multi_worker FLAGS; returns (status, output)."""
    command = [sys.executable, os.path.join(ROOT, "scripts", "launch_workers.py"), "--workers=2",
               "--timeout=300", "--", sys.executable, "-m", worker_module,
               "--config=configs/test.py", "--config.train.strategy=multi_worker",
               f"--config.export.dir={tmp / 'saved_models'}", *flags]
    # Temporary folders of the non-chief go under tmp, where the test can look for leftovers.
    env = dict(os.environ, TMPDIR=str(tmp / "tmp"), **(env or {}))
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=400, env=env)
    return done.returncode, done.stdout + done.stderr


def leftovers(tmp):
    return sorted(os.listdir(tmp / "tmp"))


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory):
    """Two workers train configs/test.py (2 epochs, --mode=all); worker 1 dies in the second
    epoch; the same launch again resumes and finishes. Returns what each stage left."""
    if not loopback_available():
        pytest.skip("cannot listen on 127.0.0.1 here")
    tmp = tmp_path_factory.mktemp("two_workers")
    (tmp / "tmp").mkdir()
    workdir = tmp / "run"
    first_status, first_output = launch(tmp, "tests.crashing_worker", f"--workdir={workdir}",
                                        env={"TFGAD_TEST_CRASH_EPOCH": "1"})
    with open(workdir / workdir_lib.BACKUP_DIR / "training_metadata.json") as f:
        backup = json.load(f)
    first_log = (workdir / "training_log.csv").read_text()
    after_crash = leftovers(tmp)
    status, output = launch(tmp, "tfgad.main", f"--workdir={workdir}")
    return {"first": (first_status, first_output, backup, first_log, after_crash),
            "second": (status, output), "workdir": workdir, "leftovers": leftovers(tmp)}


@pytest.mark.slow
@pytest.mark.multiprocess
def test_a_killed_worker_ends_the_run_and_the_relaunch_resumes_from_the_backup(killed_and_resumed):
    first_status, first_output, backup, first_log, _ = killed_and_resumed["first"]
    assert first_status == crashing_worker.CRASH_EXIT_STATUS, first_output[-3000:]
    assert "[launcher] worker 1 exited with status 3; ending the others" in first_output
    assert backup["epoch"] == 1  # epoch index 0 was done and backed up when worker 1 died
    status, output = killed_and_resumed["second"]
    assert status == 0, output[-3000:]
    with open(killed_and_resumed["workdir"] / "training_log.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    # The resumed run did not train epoch 0 again: its row is the first run's, unchanged.
    assert first_log.splitlines()[1] in (killed_and_resumed["workdir"] / "training_log.csv").read_text()


@pytest.mark.slow
@pytest.mark.multiprocess
def test_two_workers_end_in_step_with_one_complete_workdir_on_the_chief(killed_and_resumed):
    status, output = killed_and_resumed["second"]
    assert status == 0, output[-3000:]
    digests = {line.split("[worker ")[1][0]: line.rsplit(" ", 1)[1]
               for line in output.splitlines() if "trained weights: sha256" in line}
    assert set(digests) == {"0", "1"} and digests["0"] == digests["1"]
    workdir = killed_and_resumed["workdir"]
    for name in ("model.weights.h5", "metrics.json", "calibration.json", "scores.csv",
                 "report.md", "training_log.csv", "normalization.json", "config.json"):
        assert (workdir / name).is_file(), name
    assert not (workdir / workdir_lib.BACKUP_DIR).exists()  # removed at the end of training
    with open(workdir / "metrics.json") as f:
        assert json.load(f)["test"]["auroc"] > 0.7
    # The chief alone scores and prints the one-process figures line.
    figures = [line for line in output.splitlines() if "test AUROC" in line]
    assert len(figures) == 1 and figures[0].startswith("[worker 0] test AUROC")
    assert "SavedModel in" in output
    exported = [line.split("SavedModel in ", 1)[1] for line in output.splitlines()
                if "SavedModel in" in line]
    assert os.path.isfile(os.path.join(exported[0], "saved_model.pb"))
    # A quiet success: no per-step collective INFO lines, no crash message.
    assert "Collective all_reduce" not in output and "crashed" not in output
    # The second run's non-chief removed its temporary folder (the killed one could not).
    assert killed_and_resumed["leftovers"] == killed_and_resumed["first"][4]


def test_tf_config_gives_the_task_and_worker_0_is_chief_without_a_chief_task(monkeypatch):
    cluster_spec = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    for index, chief in ((0, True), (1, False)):
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster_spec,
                                                    "task": {"type": "worker", "index": index}}))
        task = cluster.task_from_environment()
        assert (task.index, task.workers, task.is_chief) == (index, 2, chief)
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": dict(cluster_spec, chief=["h:3"]),
                                                "task": {"type": "worker", "index": 0}}))
    assert not cluster.task_from_environment().is_chief  # the chief task is the chief
    assert cluster.task_from_environment().workers == 3


@pytest.mark.parametrize("tf_config, message", [
    (None, "needs TF_CONFIG.*launch_workers.py"),
    ("{not json", "TF_CONFIG is not a cluster spec.*expected"),
    ('{"cluster": {"worker": ["h:1"]}}', "TF_CONFIG is not a cluster spec.*KeyError"),
    ('{"cluster": {"worker": ["h:1"]}, "task": {"type": "worker", "index": 1}}',
     "task worker:1 is not in its cluster"),
])
def test_a_missing_or_broken_tf_config_names_the_fix(monkeypatch, tf_config, message):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(UserError, match=message):
        cluster.task_from_environment()


def test_multi_worker_training_without_tf_config_fails_before_any_work(monkeypatch, test_config,
                                                                       tmp_path):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    test_config.train.strategy = "multi_worker"
    with pytest.raises(UserError, match="needs TF_CONFIG"):
        run.train_and_evaluate(test_config, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def run_launcher(*args, timeout=60):
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "launch_workers.py"),
                           *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


WORKER = ("import json, os, sys, time; task = json.loads(os.environ['TF_CONFIG'])['task']; "
          "print('index', task['index'], flush=True); "
          "time.sleep(60) if task['index'] == 0 else sys.exit(7)")


@pytest.mark.multiprocess
def test_the_launcher_prefixes_output_and_ends_every_worker_when_one_fails():
    started = time.monotonic()
    done = run_launcher("--workers=2", "--", sys.executable, "-c", WORKER)
    assert done.returncode == 7
    assert time.monotonic() - started < 30  # worker 0 was ended, not waited for (60 s)
    assert "[worker 0] index 0" in done.stdout and "[worker 1] index 1" in done.stdout
    assert "[launcher] worker 1 exited with status 7; ending the others" in done.stdout


@pytest.mark.multiprocess
def test_the_launcher_gives_each_worker_its_own_loopback_address():
    code = ("import json, os; c = json.loads(os.environ['TF_CONFIG']); "
            "print(c['task']['index'], *c['cluster']['worker'])")
    done = run_launcher("--workers=3", "--", sys.executable, "-c", code)
    assert done.returncode == 0, done.stderr
    lines = sorted(line.split("] ", 1)[1] for line in done.stdout.splitlines() if "[worker" in line)
    assert [line.split()[0] for line in lines] == ["0", "1", "2"]
    addresses = lines[0].split()[1:]
    assert len(set(addresses)) == 3 and all(a.startswith("127.0.0.1:") for a in addresses)
    assert all(line.split()[1:] == addresses for line in lines)  # one cluster for all


def test_the_launcher_needs_a_command_and_stops_on_its_timeout():
    done = run_launcher("--workers=2")
    assert done.returncode == 2 and "no worker command; put it after --" in done.stderr
    done = run_launcher("--workers=1", "--timeout=1", "--", sys.executable, "-c",
                        "import time; time.sleep(60)")
    assert done.returncode == 124 and "still running after 1 s" in done.stdout


@pytest.mark.multiprocess
def test_the_launcher_ends_a_worker_that_hangs_after_the_chief_finished():
    hang = ("import json, os, time; task = json.loads(os.environ['TF_CONFIG'])['task']; "
            "time.sleep(0 if task['index'] == 0 else 60)")
    started = time.monotonic()
    done = run_launcher("--workers=2", "--grace=1", "--", sys.executable, "-c", hang)
    assert done.returncode == 0 and time.monotonic() - started < 30
    assert "the chief finished 1 s ago and worker(s) 1 still run; ending them" in done.stdout


def test_the_launcher_answers_a_missing_command_in_one_line():
    done = run_launcher("--workers=2", "--", "no-such-command-tfgad")
    assert done.returncode == 127
    assert done.stdout.strip() == ("[launcher] error: cannot run the worker command "
                                   "'no-such-command-tfgad' (No such file or directory); check "
                                   "the command after --")
    assert "Traceback" not in done.stderr


@pytest.mark.multiprocess
def test_sigterm_to_the_launcher_ends_every_worker(tmp_path):
    import signal
    pids = tmp_path / "pids"
    worker = (f"import os, time; open({str(pids)!r} + str(os.getpid()), 'w').close(); "
              "time.sleep(120)")
    launcher = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "launch_workers.py"),
                                 "--workers=2", "--", sys.executable, "-c", worker],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while len(list(tmp_path.glob("pids*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = [int(p.name[len("pids"):]) for p in tmp_path.glob("pids*")]
    assert len(workers) == 2
    launcher.send_signal(signal.SIGTERM)
    out, _ = launcher.communicate(timeout=30)
    assert launcher.returncode == 128 + signal.SIGTERM
    assert "[launcher] got signal 15; ending the workers" in out
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_batch_that_does_not_split_over_the_replicas_is_refused(test_config, monkeypatch):
    from tfgad import data

    class TwoReplicas:
        num_replicas_in_sync = 2
    monkeypatch.setattr(cluster, "strategy", lambda name: TwoReplicas())
    test_config.train.batch_size = 31
    splits, _ = data.load_splits(test_config)
    with pytest.raises(UserError, match="batch_size=31 does not split over the 2 replicas.*multiple of 2"):
        train_lib._check_batch_splits(test_config, splits["train"])
