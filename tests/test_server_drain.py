"""Stopping under load: the server drains on SIGTERM and SIGINT (no accepted request left
unanswered, exit 0); the training launcher ends its workers once, however often it is told,
and kills a worker that ignores SIGTERM. Bounded in count and time; loopback only."""
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def export_dir(copy_of_trained_run):
    from tfgad.export import writer as export
    config, _ = copy_of_trained_run
    return export.target_folder(config), config.data.length


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_server_answers_every_accepted_request_before_it_exits(export_dir, signum):
    folder, length = export_dir
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tfgad.serving", f"--model_base_path={folder}",
         "--model_name=ecg", f"--port={port}", "--grpc_port=-1", "--drain_seconds=30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert server.stdout.readline().startswith("serving ecg")
        body = json.dumps({"instances": np.zeros((16, length, 1)).tolist()}).encode()

        def one(_):
            request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models/ecg:predict",
                                             data=body, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return "answered" if response.status == 200 else f"status {response.status}"
            except urllib.error.URLError as e:
                if isinstance(e.reason, ConnectionRefusedError):
                    return "refused"  # came after the listener closed: never accepted
                return f"lost: {e.reason!r}"
            except (ConnectionError, OSError) as e:
                return f"lost: {e!r}"

        with concurrent.futures.ThreadPoolExecutor(200) as pool:
            futures = [pool.submit(one, i) for i in range(200)]
            time.sleep(1.0)
            server.send_signal(signum)
            outcomes = [f.result() for f in futures]
        rc = server.wait(60)
    finally:
        if server.poll() is None:
            server.kill()
    lost = [o for o in outcomes if o not in ("answered", "refused")]
    assert not lost, lost[:3]
    assert outcomes.count("answered") > 0
    assert rc == 0, server.stderr.read()[-2000:]
    assert "Traceback" not in server.stderr.read()


def test_the_launcher_ends_a_stubborn_worker_once_however_often_it_is_signalled(tmp_path):
    worker = tmp_path / "stubborn.py"
    worker.write_text("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                      "print('up', flush=True)\ntime.sleep(120)\n")
    launcher = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "scripts", "launch_workers.py"), "--workers=1", "--",
         sys.executable, str(worker)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert "up" in launcher.stdout.readline()
        launcher.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        launcher.send_signal(signal.SIGTERM)
        rc = launcher.wait(60)
        output = launcher.stdout.read()
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert rc == 128 + signal.SIGTERM
    assert "Traceback" not in output and "already ending the workers" in output
    left = subprocess.run(["pgrep", "-f", str(worker)], capture_output=True, text=True)
    assert left.stdout.strip() == "", "the worker that ignored SIGTERM is still running"
