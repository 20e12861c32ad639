"""Which tf.distribute strategy trains, and this process's part in a multi-worker cluster.

train.strategy:
- default: one device (TensorFlow's default strategy);
- mirrored: MirroredStrategy over this machine's GPUs (or one CPU);
- multi_worker: MultiWorkerMirroredStrategy over the processes that TF_CONFIG names, one per
  host (scripts/launch_workers.py starts them on this machine). Every worker runs the same
  training; the chief (task "chief", or worker 0 where the cluster has none) writes the
  workdir, the others write what fit writes to a temporary folder that they remove.

MultiWorkerMirroredStrategy must exist before TensorFlow runs its first operation, so
train_lib creates it first of all, and one process makes it once.
"""
import functools
import json
import os
import shutil
import tempfile
from typing import NamedTuple

import tensorflow as tf

from tfgad.errors import UserError

STRATEGIES = ("default", "mirrored", "multi_worker")
LAUNCHER = "scripts/launch_workers.py"


class Task(NamedTuple):
    """This process's task in the cluster: type ("worker" or "chief") and index."""
    type: str
    index: int  # type: ignore[assignment]  # a field named like tuple.index, read as task.index
    workers: int  # how many training processes the cluster has (chief included)
    has_chief: bool = False  # whether the cluster names a chief task (else worker 0 is chief)

    @property
    def is_chief(self) -> bool:
        return self.type == "chief" or (self.index == 0 and not self.has_chief)


def task_from_environment() -> Task:
    """The task TF_CONFIG gives this process; a clear error when it is missing or malformed."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise UserError("train.strategy=multi_worker needs TF_CONFIG (the cluster and this "
                        f"process's task); start the workers with {LAUNCHER} --workers=N -- "
                        "<command>, or set TF_CONFIG on each host (README, multi-worker "
                        "training)")
    try:
        tf_config = json.loads(text)
        cluster, task = tf_config["cluster"], tf_config["task"]
        kind, index = str(task["type"]), int(task["index"])
        members = {name: list(addresses) for name, addresses in cluster.items()}
    except (ValueError, KeyError, TypeError) as e:
        raise UserError(f"TF_CONFIG is not a cluster spec ({type(e).__name__}: {e}); expected "
                        '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", '
                        '"index": 0}}') from None
    if kind not in ("chief", "worker") or index >= len(members.get(kind, [])):
        raise UserError(f"TF_CONFIG's task {kind}:{index} is not in its cluster "
                        f"({', '.join(f'{k}: {len(v)}' for k, v in members.items())})")
    workers = len(members.get("worker", [])) + len(members.get("chief", []))
    return Task(kind, index, workers, has_chief=bool(members.get("chief")))


@functools.lru_cache(maxsize=None)
def strategy(name: str) -> tf.distribute.Strategy:
    """The strategy of train.strategy=name; created once per process."""
    if name not in STRATEGIES:
        raise UserError(f"unknown train.strategy {name!r}; known: {', '.join(STRATEGIES)}")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        task_from_environment()  # a clear error before TensorFlow's own
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def this_task(name: str) -> Task:
    """This process's task under train.strategy=name: the only one, except for multi_worker."""
    if name != "multi_worker":
        return Task("chief", 0, 1)
    return task_from_environment()


def output_folder(workdir: str, task: Task) -> str:
    """Where this process writes: the workdir for the chief, a new temporary folder otherwise
    (remove it with release_output_folder)."""
    if task.is_chief:
        return workdir
    return tempfile.mkdtemp(prefix=f"tfgad-{task.type}{task.index}-")


def copy_backup(workdir: str, folder: str, backup: str) -> None:
    """Gives a non-chief the chief's backup to restore from, so that every worker resumes at
    the same epoch with the same weights. The workdir must be on storage that every host sees
    (one machine, NFS, a bucket), as for Keras' BackupAndRestore in multi-worker training."""
    source = os.path.join(workdir, backup)
    if os.path.abspath(folder) != os.path.abspath(workdir) and os.path.isdir(source):
        shutil.copytree(source, os.path.join(folder, backup))


def release_output_folder(folder: str, workdir: str) -> None:
    """Removes a non-chief's temporary folder (never the workdir)."""
    if os.path.abspath(folder) != os.path.abspath(workdir):
        shutil.rmtree(folder, ignore_errors=True)
