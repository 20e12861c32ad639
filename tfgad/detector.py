"""tfgad.Detector: fit a GAN anomaly detector on numpy arrays, as PyOD and scikit-learn users do.

    detector = tfgad.Detector("aegan", overrides={"train.epochs": 5}).fit(x_train)
    detector.decision_function(x_new)        # anomaly scores, higher is more anomalous
    detector.predict(x_new)                  # 0/1 by the threshold fit on validation
    detector.score(x_new)                    # score, is_anomaly and every score component
    detector.save("my_detector")             # tfgad.load("my_detector") gives it back
    detector.export("saved_models/ecg")      # the next SavedModel version, for TF Serving

fit trains on normal samples, scores validation and calibrates on it: with labelled
anomalies in validation (x_val, y_val), by the config's combiner and threshold rule; without
them, by the one-class rules (the weighted components and a percentile of the normal
validation scores). Validation is never the training data: without x_val, a share of x
(data.val_fraction; whole groups when groups are given) is held out.
"""
import os
import shutil
import tempfile

import keras
import ml_collections
import numpy as np
from absl import logging
from sklearn import exceptions as sklearn_exceptions
from sklearn.base import BaseEstimator

from tfgad import config_files, data, io_utils, saved_detector, sections
from tfgad.data import normalization as normalization_lib, rhythm
from tfgad.data.types import Samples
from tfgad.detection import calibration as calibration_lib
from tfgad.detection import conformal, maps, one_class, record_scoring
from tfgad.detection import combiners, thresholds
from tfgad.detection import scorer as scorer_lib, search_budget
from tfgad.errors import UserError
from tfgad.export import writer as export_lib
from tfgad.inference.detector import ScoreResult
from tfgad.models import scores
from tfgad.training import config_checks, train_lib
from tfgad.training import workdir as workdir_lib
from tfgad.detection import subsets



def _as_config(config, overrides) -> ml_collections.ConfigDict:
    """A ConfigDict from a shipped config's name, a config file's path or a ConfigDict, with
    the overrides checked field by field (config_files.override_checked)."""
    if isinstance(config, ml_collections.ConfigDict):
        config = config.copy_and_resolve_references()
    elif isinstance(config, str):
        config = config_files.load(config)
    else:
        raise UserError(f"config must be a config name, a path or a ConfigDict, not "
                        f"{type(config).__name__}")
    return config_files.override_checked(config, overrides)


def _labels(y, n: int, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,):
        raise UserError(f"{name} has shape {y.shape}; give one 0/1 label per sample ({n})")
    if not np.isin(y, (0, 1)).all():
        raise UserError(f"{name} holds values other than 0 (normal) and 1 (anomaly)")
    return y.astype(np.int8)


def _held_out(count: int, groups, fraction: float, seed: int) -> np.ndarray:
    """A boolean mask of the validation rows: a random fraction of the rows, or of whole
    groups, so that no group sits on both sides."""
    rng = np.random.default_rng(seed)
    if groups is None:
        mask = np.zeros(count, bool)
        mask[rng.permutation(count)[:max(1, int(round(fraction * count)))]] = True
    else:
        groups = np.asarray(groups)  # one per row: _split_for_fit checked it
        order = rng.permutation(np.unique(groups))
        if len(order) < 2:
            raise UserError("groups holds one group; validation needs whole groups of its own")
        mask, taken = np.zeros(count, bool), 0
        for group in order[:-1]:  # at least one group stays for training
            if taken >= fraction * count:
                break
            rows = groups == group
            mask |= rows
            taken += int(rows.sum())
    if mask.all() or not mask.any():
        raise UserError(f"cannot hold out validation samples from {count} samples; give more, "
                        "or give x_val")
    return mask


def one_class_rules(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """config with a combiner and threshold that need no labelled anomaly: a fitted combiner
    becomes the weighted sum, a labelled threshold rule the percentile of normal scores."""
    config = config.copy_and_resolve_references()
    if config.detection.combiner in combiners.FITTED:
        config.detection.combiner = "weighted"
    if config.detection.threshold in thresholds.LABELLED:
        config.detection.threshold = "percentile"
    return config


class NotFittedError(UserError, sklearn_exceptions.NotFittedError):
    """A fitted-only method called before fit; also scikit-learn's NotFittedError."""


MIN_SAMPLES = 2  # training and validation samples fit needs, each


class Detector(BaseEstimator):
    """A GAN anomaly detector of one family (a config), fit on numpy arrays.

    scikit-learn's estimator rules hold: __init__ only stores its arguments (they are the
    parameters: get_params, set_params, sklearn.base.clone, GridSearchCV), fit resolves and
    checks them and may be called again (it retrains), fitted state ends in "_".

    Args:
      config: a shipped config's name ("aegan", "anogan", "tuned/aegan_digits", ...), a config
        file's path, or a ConfigDict.
      overrides: {"a.b": value} fields to set, as --config.a.b=value does; checked at fit.
      workdir: where training writes its checkpoints, logs and plots (resumable after a
        crash); default: a temporary folder per fit, removed with the detector.
      verbose: 1 shows Keras' progress bars while training and scoring; 0 is quiet.
      contamination: PyOD's threshold rule: the expected share of anomalies c; the threshold
        is then the 100 (1 - c) percentile of the normal validation scores (None: the
        config's detection.threshold).

    After fit: decision_scores_ and labels_ (PyOD's; on the validation samples, which never
    trained: training samples would score optimistically), config_ (the resolved config),
    model_, normalization_ (of the samples, fit on the training part), calibration_ (fit on
    validation only), threshold_, sample_shape_.

    Example (configs/test.py's tiny model, some seconds; tests/test_docstrings.py runs it):

    >>> import numpy as np, tfgad
    >>> from tfgad import config_files, data
    >>> splits, _ = data.load_splits(config_files.load("test"), normalize=False)
    >>> detector = tfgad.Detector("test", verbose=0)
    >>> detector.fit(splits["train"].x, x_val=splits["val"].x, y_val=splits["val"].y)
    Detector(config='test', verbose=0)
    >>> result = detector.score(splits["test"].x)  # raw samples: the detector normalizes
    >>> result.score.shape == result.is_anomaly.shape == (len(splits["test"].x),)
    True
    >>> bool(np.all(detector.predict(splits["test"].x) == (result.score >= detector.threshold_)))
    True
    """

    _scorer: scorer_lib.Scorer  # set by fit and load: the fitted model's scorer

    def __init__(self, config="aegan", overrides: dict | None = None, workdir: str | None = None,
                 verbose: int = 1, contamination: float | None = None):
        self.config = config
        self.overrides = overrides
        self.workdir = workdir
        self.verbose = verbose
        self.contamination = contamination

    @property
    def threshold_(self) -> float:
        self._check_fitted()
        return float(self.calibration_["threshold"])

    def _resolved_config(self) -> ml_collections.ConfigDict:
        config = _as_config(self.config, self.overrides)
        if isinstance(self.verbose, bool) or self.verbose not in (0, 1):
            raise UserError(f"verbose={self.verbose!r}; give 0 (quiet) or 1 (progress bars)")
        config.train.verbose = self.verbose
        if self.contamination is not None:  # PyOD's threshold rule
            c = self.contamination
            if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0 < c <= 0.5:
                raise UserError(f"contamination={c!r}; give the expected share of anomalies, "
                                "in (0, 0.5], or None for the config's threshold rule")
            config.detection.threshold = "percentile"
            config.detection.percentile = 100.0 * (1.0 - c)
        return config

    def fit(self, x, y=None, *, x_val=None, y_val=None, groups=None) -> "Detector":
        """Trains on the normal samples of x, scores validation and calibrates on it.

        Args:
          x: samples, [N, L] or [N, L, C] series or [N, H, W, C] images.
          y: 0/1 labels of x (None: all normal). Labelled anomalies never train: they join the
            held-out validation, which then fits the combiner and threshold on them (what
            GridSearchCV and cross_val_score pass).
          x_val, y_val: a validation split of its own and its 0/1 labels (y_val None: all
            normal); keyword-only.
          groups: a group id per row of x (record, patient): the held-out validation takes
            whole groups, and record-normalized scores are normalized within them.
        Returns:
          self.
        """
        config = self._resolved_config()
        config.data.name = "arrays"  # the samples come from the caller, as they are
        config_checks.validate(config)
        x = data.check_samples(x, None, "x samples")
        if x.ndim == 4:  # images: the family's tuned image settings, where still at ECG values
            config_files.fit_data_kind(config, images=True,
                                       user_set=config_files.flatten(self.overrides or {}))
        train_x, val_x, val_y, groups, val_groups = _split_for_fit(x, y, x_val, y_val, groups,
                                                                    config)
        norm = normalization_lib.fit(config.data.normalization, train_x)
        train = _samples(normalization_lib.apply(norm, train_x), np.zeros(len(train_x), np.int8),
                         groups)
        val = _samples(normalization_lib.apply(norm, val_x), val_y, val_groups)
        self.config_ = config
        return self.fit_samples(train, val, norm)

    def fit_samples(self, train: Samples, val: Samples, normalization: dict) -> "Detector":
        """fit on samples that are already split and normalized (by normalization, which the
        detector keeps for new samples), as tfgad.data.load_splits gives them: trains on
        train, scores val and calibrates on it only (by the one-class rules when val holds
        no labelled anomaly). Returns self."""
        if not hasattr(self, "config_"):  # called directly, not through fit
            self.config_ = self._resolved_config()
        if not val.y.any() and not one_class.needs_negatives(self.config_, val):
            self.config_ = one_class_rules(self.config_)
        workdir = self._fresh_workdir()
        workdir_lib.prepare(workdir, self.config_, "train")
        keras.utils.set_random_seed(self.config_.seed)
        model = train_lib.train(self.config_, workdir, train, val)
        self._attach(self.config_, model, normalization, train.x.shape[1:])
        self.calibrate(val, train)
        return self

    @classmethod
    def from_model(cls, config: ml_collections.ConfigDict, model, normalization: dict,
                   sample_shape: tuple, verbose: int = 0) -> "Detector":
        """A detector around a model trained elsewhere (a workdir's), to calibrate or score."""
        detector = cls(config, verbose=verbose)
        # The run's own config as it was (not the verbosity set above): exports record it.
        detector._attach(config.copy_and_resolve_references(), model, normalization,
                         sample_shape)
        return detector

    def calibrate(self, val: Samples, train: Samples | None = None,
                  progress=None) -> dict[str, np.ndarray]:
        """Scores the (normalized) validation samples and fits calibration_ on them only;
        train: normal training samples for f-AnoGAN's centering. Returns the validation
        outputs of the scorer. With search.budgets, the search's n_max is chosen here first,
        on the validation samples (tfgad/detection/search_budget.py). With no labelled anomaly
        in val and detection.one_class=negatives, generated negatives join val for the fit
        (tfgad/detection/one_class.py); what is returned and kept as decision_scores_ is of
        val's own samples."""
        shown = len(val)
        if one_class.needs_negatives(self.config_, val):
            if one_class.enough_for_negatives(val):
                val = one_class.with_negatives(val, self.config_)
            else:
                logging.warning("detection.one_class=negatives needs %d normal validation "
                                "samples or more; these are %d: the one-class rules (weighted "
                                "components, percentile threshold) serve instead",
                                one_class.MIN_NORMAL_SAMPLES, len(val))
                self.config_ = one_class_rules(self.config_)
        chosen = search_budget.choose(self.config_, self.model_, self._scorer, val.x, val.y,
                                      self.config_.detection.batch_size, progress)
        if chosen is None:
            val_out = self.components(val.x, progress)
        else:
            self.config_, self._scorer, val_out = chosen.config, chosen.scorer, chosen.outputs
        train_out = subsets.reference_outputs(self.config_, self._scorer, train) \
            if train is not None else None
        self.calibration_ = calibration_lib.fit(val_out, val.y, self.config_, train_out,
                                                val.groups)
        if chosen is not None:
            self.calibration_[search_budget.CALIBRATION_KEY] = chosen.record
        if len(val) > shown:  # its "anomalies" were generated, none labelled
            self.calibration_["fit_on"]["generated_negatives"] = len(val) - shown
        # PyOD's fitted attributes, on the validation samples (never trained on).
        scored = record_scoring.score(self.calibration_, val_out, val.groups)
        # Of the validation samples given: generated negatives served the fit alone.
        self.decision_scores_ = scored.score[:shown]
        self.labels_ = scored.is_anomaly[:shown].astype(np.int8)
        self._validation = (val_out, val.y, train_out, val.groups)
        return {name: values[:shown] for name, values in val_out.items()}

    def use_calibration(self, calibration: dict) -> None:
        """Takes a calibration fit before (a workdir's calibration.json), with the search
        budget it chose, if any."""
        self.calibration_ = calibration
        n_max = search_budget.recorded_n_max(calibration)
        if n_max is not None and n_max != self.config_.search.n_max:
            self.config_.search.n_max = n_max
            self._scorer = scorer_lib.from_config(self.config_, self.model_)

    def calibration_with(self, overrides: dict) -> dict:
        """The calibration that other detection settings ({"detection.combiner": "svm"})
        would fit on the validation outputs of the last calibrate: to compare combiners on one
        trained and scored model. The detector's own calibration_ stays as it is."""
        self._check_fitted()
        if getattr(self, "_validation", None) is None:
            raise UserError("this Detector holds no validation outputs (a loaded one); call "
                            "calibrate(val) first")
        config = self.config_.copy_and_resolve_references()
        config_files.override(config, overrides)
        val_out, y, train_out, groups = self._validation
        return calibration_lib.fit(val_out, y, config, train_out, groups)

    def components(self, x_normalized: np.ndarray, progress=None,
                   batch_size=None) -> dict[str, np.ndarray]:
        """The scorer's outputs ({component or diagnostic: [N]}) of normalized samples."""
        batch_size = _batch_size(batch_size) or self.config_.detection.batch_size
        if progress is None and self.verbose:
            bar = keras.utils.Progbar(len(x_normalized), unit_name="sample")
            progress = lambda done, total: bar.update(done)  # noqa: E731
        return scorer_lib.score_samples(self._scorer, x_normalized, batch_size, self.config_.seed,
                                        progress)

    def scorer_settings(self) -> dict:
        """What the scorer does (encoder or latent search, and its settings)."""
        self._check_fitted(calibrated=False)
        return self._scorer.settings()

    def _attach(self, config, model, normalization, sample_shape):
        self.config_, self.model_, self.normalization_ = config, model, normalization
        self.sample_shape_ = tuple(int(d) for d in sample_shape)
        self._scorer = scorer_lib.from_config(config, model)

    def score(self, x, batch_size: int | None = None, groups=None,
              stream: bool = False) -> ScoreResult:
        """score (calibrated), is_anomaly and every score component of samples x, as numpy
        arrays of len(x): the same result type as an export's tfgad.load(...).score(x).

        groups: each sample's record, where detection.record_normalization=robust normalizes
        scores within records (None: x is one record's samples, in time order).
        stream: causal record baselines (each sample over its record's samples before it, as
        the server answers them sent one by one); else each record's whole baseline."""
        self._check_fitted()
        x = data.check_samples(x, self.sample_shape_, "x samples")
        normalized = normalization_lib.apply(self.normalization_, x)
        out = self.components(normalized, batch_size=batch_size)
        scored = record_scoring.score(self.calibration_, out, groups, stream)
        signal = rhythm.signal_part(normalized, rhythm.channels(self.config_))
        return ScoreResult(scored.score.astype(np.float32), scored.is_anomaly,
                           {k: out[k] for k in sorted(scores.component_names(out))},
                           baseline=scored.baseline, baseline_beats=scored.baseline_beats,
                           p_value=scored.p_value,
                           anomaly_map=maps.residual_map(
                               signal, out["x_hat"], sigma=self.config_.detection.map_smoothing))

    def decision_function(self, x) -> np.ndarray:
        """Anomaly scores of x [N]: higher is more anomalous."""
        return self.score(x).score

    def predict(self, x) -> np.ndarray:
        """0 (normal) / 1 (anomaly) for each sample of x, by threshold_."""
        return self.score(x).is_anomaly.astype(np.int8)

    def predict_proba(self, x) -> np.ndarray:
        """[N, 2]: each sample's probability of being normal and anomalous, from the
        split-conformal p-value of its score against the normal validation scores
        (tfgad/detection/conformal.py); PyOD's layout."""
        return conformal.proba(self.score(x).score, self.calibration_)

    def save(self, folder: str) -> str:
        """Writes the fitted detector to folder (config, weights with their SHA-256,
        normalization, calibration), atomically: a folder written beside it is renamed into
        place, replacing a detector saved there before. tfgad.load(folder) gives it back.
        Returns folder."""
        self._check_fitted()
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise UserError(f"{folder} is a file; give a folder to save the detector in")
        if os.path.isdir(folder) and os.listdir(folder) and not os.path.isfile(
                os.path.join(folder, saved_detector.FILE)):
            raise UserError(f"{folder} holds other files; give a new or empty folder (a folder "
                            "holding a saved detector is replaced)")
        tmp = io_utils.fresh_folder_beside(folder)
        try:
            weights = os.path.join(tmp, train_lib.WEIGHTS_FILE)
            self.model_.save_weights(weights)
            io_utils.write_json(os.path.join(tmp, saved_detector.FILE), {
                "config": self.config_.to_dict(), "normalization": self.normalization_,
                "calibration": self.calibration_, "sample_shape": list(self.sample_shape_),
                "weights_sha256": workdir_lib.file_sha256(weights)})
            _replace_folder(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return folder

    @classmethod
    def load(cls, folder: str, verbose: int = 1) -> "Detector":
        """A detector written by save, checked: its files complete, its weights the ones
        saved (SHA-256), its calibration finite; else a one-line UserError naming the file."""
        saved, weights = saved_detector.read(folder)
        config = ml_collections.ConfigDict(sections.upgrade(saved["config"]))
        try:
            model = train_lib.build_model(config, tuple(saved["sample_shape"]))
            model.load_weights(weights)
        except UserError:
            raise
        except Exception as e:  # Keras and h5py name a mismatch in their own terms
            first = str(e).splitlines()[0] if str(e) else ""
            raise UserError(f"the weights in {weights} do not fit the saved config (model "
                            f"{config.model.name!r}, sample_shape {saved['sample_shape']}, "
                            f"latent_dim {config.model.latent_dim}): {type(e).__name__}: "
                            f"{first[:200]}; save the detector again") from None
        detector = cls.from_model(config, model, saved["normalization"], saved["sample_shape"],
                                  verbose)
        detector.use_calibration(saved["calibration"])
        return detector

    def export(self, folder: str | None = None) -> str:
        """Writes the next SavedModel version under folder (saved_models/NAME; default: the
        config's export.dir and export.name) and returns the version's path."""
        self._check_fitted()
        base_dir = name = None
        if folder is not None:
            base_dir, name = os.path.dirname(os.path.abspath(folder)), os.path.basename(
                os.path.normpath(folder))
        return export_lib.export(self.model_, self.config_, self.calibration_,
                                 self.normalization_, self.sample_shape_, base_dir, name)

    def _check_fitted(self, calibrated: bool = True):
        if getattr(self, "model_", None) is None or (
                calibrated and getattr(self, "calibration_", None) is None):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(x) "
                                 "first")

    def _fresh_workdir(self) -> str:
        """Where this fit trains: the workdir argument, or a new temporary folder per fit (so
        that fit can be called again; the previous one is removed)."""
        if self.workdir is not None:
            if os.path.isfile(os.path.join(self.workdir, train_lib.WEIGHTS_FILE)):
                raise UserError(f"workdir={self.workdir!r} already holds a finished training; "
                                "give another workdir, or workdir=None (a temporary folder "
                                "per fit), to fit again")
            return self.workdir
        previous = getattr(self, "_tmp", None)
        if previous is not None:
            previous.cleanup()
        self._tmp = tempfile.TemporaryDirectory(prefix="tfgad-")
        return self._tmp.name


def _replace_folder(new: str, folder: str) -> None:
    """Renames new to folder; an existing folder is moved aside first and then removed."""
    if not os.path.isdir(folder):
        os.rename(new, folder)
        return
    old = f"{os.path.normpath(folder)}.old-{os.getpid()}"
    os.rename(folder, old)
    os.rename(new, folder)
    shutil.rmtree(old, ignore_errors=True)


def _batch_size(value) -> int | None:
    """batch_size checked: None (the config's) or a positive integer."""
    if value is None:
        return None
    if np.ndim(value) > 0:  # sklearn's score(X, y) lands y here
        raise UserError("score(x) returns per-sample results (tfgad's meaning, as for exports); "
                        "for scikit-learn tools pass scoring=, e.g. scoring=\"roc_auc\"")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise UserError(f"batch_size={value!r}; give a positive whole number of samples per "
                        "call")
    return int(value)


def _split_for_fit(x, y, x_val, y_val, groups, config) -> tuple:
    """(train x, validation x, validation labels, train groups, validation groups) of fit's
    arguments, checked: labelled anomalies of x join validation, never training."""
    count = len(x)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (count,):
            raise UserError(f"groups has shape {groups.shape}; give one group id per row of x "
                            f"({count})")
    if y_val is not None and x_val is None:
        raise UserError("y_val labels x_val, which is missing; give x_val too, or give the "
                        "labels of x as y")
    labels = np.zeros(count, np.int8) if y is None else _labels(y, count, "y")
    val_groups = None
    if x_val is None:
        normal = labels == 0
        mask = _held_out(int(normal.sum()), None if groups is None else groups[normal],
                         config.data.val_fraction, config.seed)
        held = np.zeros(count, bool)
        held[np.flatnonzero(normal)[mask]] = True
        validation = held | (labels == 1)
        train_x, val_x, val_y = x[~validation], x[validation], labels[validation]
        if groups is not None:  # records normalize their own scores (record_normalization)
            groups, val_groups = groups[~validation], groups[validation]
    else:
        if y is not None and labels.any():
            raise UserError("y marks anomalies in x and x_val is given too; give labelled "
                            "anomalies in one place (x_val with y_val, or x with y)")
        val_x = data.check_samples(x_val, x.shape[1:], "x_val samples")
        val_y = (np.zeros(len(val_x), np.int8) if y_val is None
                 else _labels(y_val, len(val_x), "y_val"))
        train_x = x
    if len(train_x) < MIN_SAMPLES or (val_y == 0).sum() < MIN_SAMPLES:
        raise UserError(f"fit needs at least {MIN_SAMPLES} normal samples to train on and "
                        f"{MIN_SAMPLES} normal validation samples; it has {len(train_x)} and "
                        f"{int((val_y == 0).sum())} (from {count} rows of x); give more samples")
    return train_x, val_x, val_y, groups, val_groups


def _samples(x: np.ndarray, y: np.ndarray, groups=None) -> Samples:
    """Samples of arrays; groups: their record ids (None: one record)."""
    # Any ids (patient names, say) as integers: Samples keeps int64 groups.
    groups = (np.zeros(len(x), np.int64) if groups is None
              else np.unique(np.asarray(groups), return_inverse=True)[1].astype(np.int64))
    return Samples(x, y, groups, np.where(y == 1, "anomaly", "normal"))
