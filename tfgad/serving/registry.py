"""Model versions on disk (TF Serving's layout <model_base_path>/<integer version>/saved_model.pb),
loaded in the background: a request never waits on a load, a version that fails to load is
reported and never replaces the last good one, and a version that disappears is unloaded."""
import gc
import os
import threading
import time

import tensorflow as tf
from absl import logging

from tfgad.errors import UserError
from tfgad.export import format as export_format
from tfgad.export import warmup

AVAILABLE, END = "AVAILABLE", "END"  # TF Serving's ModelVersionStatus states


class ModelNotFound(LookupError):
    """Unknown model or version, or none available; the server answers 404."""


class NoLoadableVersion(RuntimeError):
    """At startup, no version under the base path loads."""


class _Version:
    def __init__(self, number, stamp):
        self.number, self.stamp = number, stamp
        self.model, self.state, self.error = None, END, ""
        self.metadata = None  # assets.extra/tfgad.json; None for a SavedModel not tfgad's


def _stamp(folder):
    """What identifies a version folder's content: (newest mtime, total size, file count) of
    every file in it, so that any file copied or replaced (variables of a version caught
    mid-copy, say) makes the version load again. None while saved_model.pb is missing."""
    if not os.path.isfile(os.path.join(folder, "saved_model.pb")):
        return None
    newest = total = count = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                info = os.stat(os.path.join(root, name))
            except OSError:  # removed while walking: the next poll sees the rest
                continue
            newest, total, count = max(newest, info.st_mtime_ns), total + info.st_size, count + 1
    return newest, total, count


def _freeze_loaded_objects():
    """Moves the loaded models' Python objects out of the garbage collector's way.

    A loaded SavedModel is a large graph of Python objects; without this, the allocations of
    JSON requests trigger full collections that walk it and stall about 1 % of requests for
    some 250 ms (measured: REST p99 279 ms -> 44 ms at 16 clients). Unfreezing first lets an
    unloaded version's objects be collected.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ModelRegistry:
    """The versions of one model, polled from disk every poll_seconds by a daemon thread."""

    def __init__(self, name: str, base_path: str, poll_seconds: float = 1.0,
                 warm_up: bool = True):
        self.name, self.base_path = name, base_path
        self.poll_seconds, self.warm_up = poll_seconds, warm_up
        self._versions: dict = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.on_unload = None  # callable(version) after a version leaves the disk

    def _on_disk(self):
        if not os.path.isdir(self.base_path):
            return {}
        found = {}
        for entry in os.listdir(self.base_path):
            folder = os.path.join(self.base_path, entry)
            if entry.isdigit() and os.path.isdir(folder):
                stamp = _stamp(folder)
                if stamp is not None:
                    found[int(entry)] = stamp
        return found

    def _load(self, number, stamp):
        version = _Version(number, stamp)
        folder = os.path.join(self.base_path, str(number))
        try:
            model = tf.saved_model.load(folder)
            if self.warm_up:
                done = warmup.replay(model, folder)
                logging.info("%s version %d: %d warm-up request(s) replayed", self.name, number, done)
            version.model, version.state = model, AVAILABLE
            try:
                version.metadata = export_format.read_metadata(folder)
            except UserError:
                version.metadata = None
        except Exception as e:  # any failure leaves the version out, with its reason shown
            version.error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            logging.warning("%s version %d failed to load: %s", self.name, number, version.error)
        return version

    def refresh(self) -> None:
        """Loads new or changed versions, unloads vanished ones; loads happen outside the lock."""
        on_disk = self._on_disk()
        with self._lock:
            known = {n: v.stamp for n, v in self._versions.items()}
        for number in sorted(on_disk):
            if known.get(number) != on_disk[number]:
                loaded = self._load(number, on_disk[number])
                with self._lock:
                    self._versions[number] = loaded
        with self._lock:
            gone = [n for n in self._versions if n not in on_disk]
            for number in gone:
                logging.info("%s version %d left the disk; unloaded", self.name, number)
                del self._versions[number]
        for number in gone:
            if self.on_unload:
                self.on_unload(number)
        if gone or any(known.get(n) != on_disk[n] for n in on_disk):
            _freeze_loaded_objects()

    def start(self) -> None:
        """First load (synchronous), then the polling thread. Raises NoLoadableVersion."""
        self.refresh()
        if not any(v.state == AVAILABLE for v in self._versions.values()):
            errors = "; ".join(f"version {n}: {v.error}" for n, v in sorted(self._versions.items()))
            raise NoLoadableVersion(f"no loadable version of {self.name} under {self.base_path}"
                                    f"{' (' + errors + ')' if errors else ' (no <integer>/saved_model.pb)'}")
        self._thread = threading.Thread(target=self._poll, daemon=True, name="model-poller")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _poll(self):
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception as e:  # a poll must never kill serving
                logging.warning("polling %s failed: %s", self.base_path, e)

    def status(self, name: str, version: int | None = None) -> list:
        """[{version, state, error}] of every version seen (or of one), highest first."""
        self._check_name(name)
        with self._lock:
            versions = sorted(self._versions.values(), key=lambda v: -v.number)
        if version is not None:
            versions = [v for v in versions if v.number == version]
            if not versions:
                raise ModelNotFound(f"Servable not found for request: Specific({name}, {version})")
        return [{"version": v.number, "state": v.state, "error": v.error} for v in versions]

    def _check_name(self, name):
        if name != self.name:
            raise ModelNotFound(f"Servable not found for request: Latest({name}); this server "
                                f"serves {self.name!r}")

    def get(self, name: str, version: int | None = None) -> tuple:
        """(version, loaded SavedModel): the given version, or the highest available one."""
        self._check_name(name)
        with self._lock:
            available = {n: v for n, v in self._versions.items() if v.state == AVAILABLE}
            failed = self._versions.get(version) if version is not None else None
        if version is None:
            if not available:
                raise ModelNotFound(f"no available version of {name}")
            version = max(available)
        elif version not in available:
            reason = f" (it failed to load: {failed.error})" if failed is not None else ""
            raise ModelNotFound(f"Servable not found for request: Specific({name}, {version})"
                                f"{reason}; available: {sorted(available)}")
        return version, available[version].model

    def metadata(self, version: int) -> dict | None:
        """A loaded version's tfgad metadata (None: not a tfgad export, or not loaded)."""
        with self._lock:
            loaded = self._versions.get(version)
        return loaded.metadata if loaded is not None else None

    def wait_until(self, predicate, timeout: float = 30.0) -> bool:
        """Polls predicate(status list) until true or timeout (tests and scripts)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.status(self.name)):
                return True
            time.sleep(0.05)
        return False
