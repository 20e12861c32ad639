"""Starts N training workers on this machine, each with its TF_CONFIG, and watches them.

    python scripts/launch_workers.py --workers=2 -- \\
        python -m tfgad.main --config=configs/test.py --config.train.strategy=multi_worker \\
        --workdir=runs/two-workers

Each worker listens on a free loopback port (127.0.0.1); worker 0 is the chief. Their output
is streamed line by line with a "[worker i]" prefix. When one worker fails, the others are
ended too (a MultiWorkerMirroredStrategy step would wait for the dead one forever), and the
launcher exits with the failed worker's status; run the same command again to resume from
the chief's backup. When the chief has finished, the others get --grace seconds to finish
too and are then ended (one that hangs cannot keep the launcher waiting). SIGTERM or SIGINT
(Ctrl-C) to the launcher ends every worker's process group before it exits (143 / 130). On several machines, start the command on each host with its own TF_CONFIG
instead (README, multi-worker training).
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

GRACE_SECONDS = 10  # between SIGTERM and SIGKILL when workers are ended
CHIEF_GRACE_SECONDS = 60.0  # how long the others may run on after the chief has finished


class Stopped(Exception):
    """The launcher got SIGTERM or SIGINT; exit status 128 + the signal number."""

    def __init__(self, signum):
        super().__init__(signum)
        self.status = 128 + signum


def _raise_stopped(signum, frame):
    raise Stopped(signum)


def _already_ending(out, lock):
    def handler(signum, frame):
        with lock:
            out.write(f"[launcher] got signal {signum} again; already ending the workers "
                      f"(SIGKILL after {GRACE_SECONDS} s)\n")
            out.flush()
    return handler


def free_ports(count: int) -> list:
    """count distinct free TCP ports on 127.0.0.1 (held open together, so distinct)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_configs(ports: list) -> list:
    """One TF_CONFIG per worker: the same cluster, each its own task index."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
            for i in range(len(ports))]


def _stream(process, prefix, out, lock):
    for line in iter(process.stdout.readline, ""):
        with lock:
            out.write(f"{prefix} {line}" if line.endswith("\n") else f"{prefix} {line}\n")
            out.flush()


def _end(processes):
    """SIGTERM to every live worker's process group, SIGKILL after the grace period."""
    live = [p for p in processes if p.poll() is None]
    for p in live:
        os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for p in live:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def launch(command: list, workers: int, timeout: float = 0.0, out=sys.stdout,
           chief_grace: float = CHIEF_GRACE_SECONDS) -> int:
    """Runs command as `workers` workers; returns 0 if all succeed, else the first failure's
    status (124 if the timeout, in seconds, ran out first; 0 means none; 127 if the command
    does not exist; 128 + N after signal N)."""
    configs = tf_configs(free_ports(workers))
    lock = threading.Lock()
    processes, threads = [], []
    previous = {s: signal.signal(s, _raise_stopped) for s in (signal.SIGTERM, signal.SIGINT)} \
        if threading.current_thread() is threading.main_thread() else {}
    try:
        for index, tf_config in enumerate(configs):
            env = dict(os.environ, TF_CONFIG=tf_config, PYTHONUNBUFFERED="1")
            env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ INFO lines: noise
            # Its own process group: ending a worker ends what it started too.
            try:
                process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, text=True,
                                           start_new_session=True)
            except (FileNotFoundError, PermissionError) as e:
                out.write(f"[launcher] error: cannot run the worker command {command[0]!r} "
                          f"({e.strerror}); check the command after --\n")
                return 127
            processes.append(process)
            thread = threading.Thread(target=_stream, daemon=True,
                                      args=(process, f"[worker {index}]", out, lock))
            thread.start()
            threads.append(thread)
        status = _watch(processes, timeout, out, lock, chief_grace)
    except Stopped as stopped:
        with lock:
            out.write(f"[launcher] got signal {stopped.status - 128}; ending the workers\n")
        status = stopped.status
    finally:
        if previous:  # a repeated signal while the workers end must not cut that short
            for signum in previous:
                signal.signal(signum, _already_ending(out, lock))
        _end(processes)  # also on SIGTERM and Ctrl-C
        for thread in threads:
            thread.join(timeout=5)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return status


def _watch(processes, timeout, out, lock, chief_grace):
    started = time.monotonic()
    chief_done = None  # when worker 0 (the chief) exited 0
    while True:
        codes = [p.poll() for p in processes]
        failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
        if failed:
            index, code = failed[0]
            with lock:
                out.write(f"[launcher] worker {index} exited with status {code}; ending the "
                          "others\n")
            return code
        if all(c == 0 for c in codes):
            return 0
        if codes[0] == 0 and chief_done is None:
            chief_done = time.monotonic()
        if chief_done is not None and time.monotonic() - chief_done > chief_grace:
            running = [str(i) for i, c in enumerate(codes) if c is None]
            with lock:
                out.write(f"[launcher] the chief finished {chief_grace:.0f} s ago and worker(s) "
                          f"{', '.join(running)} still run; ending them (the chief's outputs "
                          "are complete)\n")
            return 0
        if timeout and time.monotonic() - started > timeout:
            with lock:
                out.write(f"[launcher] workers still running after {timeout:.0f} s; ending them\n")
            return 124
        time.sleep(0.2)


def parse(argv: list) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     usage="launch_workers.py [--workers=N] [--timeout=S] -- "
                                           "COMMAND...")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--timeout", type=float, default=0.0,
                        help="end all workers after this many seconds (default: no limit)")
    parser.add_argument("--grace", type=float, default=CHIEF_GRACE_SECONDS,
                        help="seconds the other workers may run on after the chief finished")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the worker command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no worker command; put it after --, e.g. -- python -m tfgad.main "
                     "--config=configs/test.py --config.train.strategy=multi_worker")
    if args.workers < 1:
        parser.error(f"--workers={args.workers}; must be at least 1")
    args.command = command
    return args


def main(argv=None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    return launch(args.command, args.workers, args.timeout, chief_grace=args.grace)


if __name__ == "__main__":
    sys.exit(main())
