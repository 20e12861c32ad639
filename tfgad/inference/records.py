"""Beats of a WFDB record, cut exactly as in training: the lead, baseline removal and window of
the export's metadata, around the annotated R peaks or, without annotations, peaks found by XQRS."""
import dataclasses
import os

import numpy as np

from tfgad.data import mitbih
from tfgad.errors import UserError


@dataclasses.dataclass
class RecordBeats:
    """The beats cut from one record."""
    record: str  # the record's path without extension
    x: np.ndarray  # [K, window, 1] float32 beats ([K, window, 4] with rhythm features)
    peaks: np.ndarray  # [K] R-peak sample index of each beat
    sampling_rate: float  # Hz
    annotations: np.ndarray  # [K] AAMI class of each beat from the .atr file, "" without one
    peak_source: str  # "annotations" or "xqrs"
    signal: np.ndarray  # [T] the lead as cut (for plots)

    @property
    def times(self) -> np.ndarray:
        """[K] time of each R peak in seconds from the record's start."""
        return self.peaks / self.sampling_rate

    @property
    def name(self) -> str:
        return os.path.basename(self.record)


def is_record(path: str) -> bool:
    """Whether path names a WFDB record (path.hea exists), given with or without .hea."""
    return os.path.isfile(strip(path) + ".hea")


def strip(path: str) -> str:
    return path[:-4] if path.endswith((".hea", ".dat", ".atr")) else path


def find_peaks(signal: np.ndarray, sampling_rate: float) -> np.ndarray:
    """R-peak sample indices found by wfdb's XQRS detector [K]."""
    from wfdb import processing
    detector = processing.XQRS(sig=np.asarray(signal, np.float64), fs=sampling_rate)
    detector.detect(verbose=False)
    return np.asarray(detector.qrs_inds, np.int64)


def cut(path: str, input_description: dict, lead: str | None = None,
        causal: bool = False) -> RecordBeats:
    """The beats of record path for a model whose input is described by input_description;
    lead: the record's name for the model's lead, where it differs (else the model's);
    causal: rhythm features as a stream computes them (rhythm.rr_features)."""
    if input_description.get("kind") != "ecg_beats":
        raise UserError(f"this model was trained on {input_description.get('source', 'other')} "
                        "data, not on beats of WFDB records; score .npz/.npy arrays (or images) "
                        "of its sample shape instead")
    record = strip(path)
    lead = lead or input_description["lead"]
    raw, rate = mitbih.read_signal(
        record, lead, baseline=False,
        lead_fix=f"the model was trained on lead {input_description['lead']}: score records "
                 "that have it, or give --lead=NAME where it is named otherwise")
    if abs(rate - input_description["sampling_rate"]) > 1e-6:
        raise UserError(f"record {os.path.basename(record)} is sampled at {rate:g} Hz; the model "
                        f"was trained on {input_description['sampling_rate']:g} Hz beats; "
                        "resample the record first")
    signal = mitbih.remove_baseline(raw, rate).astype(np.float32) \
        if input_description["remove_baseline"] else raw
    if os.path.isfile(record + ".atr"):
        peaks, classes = mitbih.read_beat_annotations(record)
        source = "annotations"
    else:
        peaks = find_peaks(raw, rate)
        classes, source = np.full(len(peaks), ""), "xqrs"
    beats, keep = mitbih.beat_inputs(signal, peaks, input_description["window_before"],
                                     input_description["window_after"],
                                     input_description.get("rhythm_features", False), causal)
    return RecordBeats(record, beats, peaks[keep], rate,
                       np.asarray(classes)[keep].astype(str), source, signal)
