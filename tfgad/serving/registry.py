"""Model versions on disk: TF Serving's layout <model_base_path>/<integer version>/saved_model.pb."""
import os
import threading

import tensorflow as tf


class ModelNotFound(LookupError):
    """Unknown model or version; the server answers 404."""


class ModelRegistry:
    """Loads SavedModel versions lazily and keeps them; a new version on disk is picked up on
    the next request that asks for the latest one, without a restart.

    Thread-safe: loading happens under a lock; a loaded SavedModel's signatures may be called
    from several threads at once.
    """

    def __init__(self, name, base_path):
        self.name, self.base_path = name, base_path
        self._loaded = {}
        self._lock = threading.Lock()

    def versions(self):
        """Complete versions on disk, ascending (half-written ones lack saved_model.pb)."""
        if not os.path.isdir(self.base_path):
            return []
        return sorted(int(d) for d in os.listdir(self.base_path)
                      if d.isdigit() and os.path.exists(os.path.join(self.base_path, d, "saved_model.pb")))

    def get(self, name, version=None):
        """(version, loaded SavedModel) for a model name and an optional version."""
        if name != self.name:
            raise ModelNotFound(f"Servable not found for request: Latest({name}); "
                                f"this server serves {self.name!r}")
        available = self.versions()
        if not available:
            raise ModelNotFound(f"no version of {name} under {self.base_path}")
        if version is None:
            version = available[-1]
        elif version not in available:
            raise ModelNotFound(f"Servable not found for request: Specific({name}, {version}); "
                                f"versions: {available}")
        with self._lock:
            if version not in self._loaded:
                self._loaded[version] = tf.saved_model.load(
                    os.path.join(self.base_path, str(version)))
            return version, self._loaded[version]
