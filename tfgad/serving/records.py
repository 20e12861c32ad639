"""Served beats: signal quality in every answer of an ECG export, and records whose baseline
the server keeps, after batching, so that other clients can never change an answer.

A request to a record-normalized export may name its record ("record" in the REST body, a
string input "record" in gRPC). The batched call computes raw score components only; each
request's rows are then normalized by its own record's state (record_context.RecordStore:
bounded in count and idle time), in arrival order, exactly as tfgad.score --stream scores the
record offline. A request that names no record is a record of its own, fresh each time (its
first beats warm up). A client that keeps the baseline itself calls serving_default with
record_location and record_scale (TF Serving's stateless way) and is served as sent.
"""
import dataclasses

import numpy as np

from tfgad.data import signal_quality
from tfgad.detection import record_context, record_scoring
from tfgad.errors import UserError
from tfgad.serving import rest

RECORD_FIELD = "record"
MAX_RECORD_ID = 200  # characters
BASELINE_INPUTS = ("record_location", "record_scale")


@dataclasses.dataclass
class RecordOptions:
    max_records: int = 10000  # records whose baseline the server holds, per model version
    idle_seconds: float = 3600.0  # a record not heard from this long starts warming up again

    def __post_init__(self):
        if self.max_records < 1 or self.idle_seconds <= 0:
            raise UserError(f"--max_records={self.max_records} and --record_idle_seconds="
                            f"{self.idle_seconds:g} must both be positive")


def record_id(value) -> str | None:
    """The request's record id as a string (None: none named), or BadRequest."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
        raise rest.BadRequest(f'"{RECORD_FIELD}" must be a non-empty string or integer naming the '
                              f"record (patient) the beats come from, not {value!r}")
    if len(str(value)) > MAX_RECORD_ID:
        raise rest.BadRequest(f'"{RECORD_FIELD}" is longer than {MAX_RECORD_ID} characters')
    return str(value)


@dataclasses.dataclass
class Plan:
    """How one request to serving_default of a tfgad export is answered."""
    version: int
    metadata: dict
    function: object  # the signature called in the batch
    signature_name: str
    by_record: bool


def plan(registry, version: int, signature_name: str, model, provided: set) -> Plan | None:
    """A Plan where the server adds to the graph's answer (an ECG export's signal quality, a
    record-normalized export's baselines), else None: the signature is served as it is."""
    metadata = registry.metadata(version)
    if metadata is None or signature_name != "serving_default":
        return None
    by_record = record_scoring.is_record_normalized(metadata["calibration"])
    if by_record and provided & set(BASELINE_INPUTS):
        return None  # a stateless client passes each row's baseline itself
    if not by_record and metadata.get("input", {}).get("kind") != "ecg_beats":
        return None
    name = "score_components" if by_record else "serving_default"
    return Plan(version, metadata, model.signatures[name], name, by_record)


class BeatService:
    """Answers Plans: quality first, then the batched call, then the record's baseline."""

    def __init__(self, service, options: RecordOptions | None = None):
        self.service, self.options = service, options or RecordOptions()
        self._stores: dict = {}  # version -> RecordStore: baselines of one version's components

    def forget(self, version: int) -> None:
        self._stores.pop(version, None)

    def records_held(self) -> int:
        return sum(len(s) for s in self._stores.values())

    async def predict(self, plan_: Plan, inputs: dict, record: str | None) -> dict:
        x = np.asarray(inputs["x"], np.float32)
        if x.ndim == 0 or not len(x):
            raise rest.BadRequest("input 'x' holds no examples")
        x, gaps = signal_quality.fill_gaps(x)  # gaps are reported per beat, never scored
        quality = signal_quality.assess(x, plan_.metadata.get("input", {}), gaps)
        usable = signal_quality.usable(quality)
        outputs = await self.service.predict(plan_.version, plan_.signature_name,
                                             plan_.function, {"x": x})
        outputs.pop("z", None)
        if plan_.by_record:
            outputs.update(self._by_record(plan_, outputs, record, usable))
        else:
            outputs["score"] = np.where(usable, outputs["score"], np.nan).astype(np.float32)
            outputs["is_anomaly"] = outputs["is_anomaly"] & usable
            if "p_value" in outputs:
                outputs["p_value"] = np.where(usable, outputs["p_value"], np.nan).astype(np.float32)
        outputs["quality"] = quality.astype(object)
        return outputs

    def _by_record(self, plan_: Plan, outputs: dict, record, usable) -> dict:
        from tfgad.detection import composition, record_scoring
        calibration = plan_.metadata["calibration"]
        raw = composition.matrix(outputs, calibration["components"])
        settings = record_scoring.stream_settings(calibration)
        if record is None:
            normalized = record_context.RecordState(settings).normalize(raw, usable)
        else:
            store = self._stores.get(plan_.version)
            if store is None:
                store = self._stores[plan_.version] = record_context.RecordStore(
                    settings, self.options.max_records, self.options.idle_seconds)
            normalized = store.normalize(record, raw, usable)
        scored = record_scoring.score_normalized(calibration, raw, normalized, usable)
        return {"score": scored.score.astype(np.float32), "is_anomaly": scored.is_anomaly,
                "p_value": scored.p_value.astype(np.float32),
                "baseline": scored.baseline.astype(object),
                "baseline_beats": scored.baseline_beats.astype(np.int64)}
