"""What --input names, read into samples: WFDB records, .npz/.npy arrays, folders of images."""
import dataclasses
import glob
import os

import numpy as np

from tfgad.errors import UserError
from tfgad.inference import records

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
ARRAY_SUFFIXES = (".npz", ".npy")


@dataclasses.dataclass
class Source:
    """One thing to score: a record, an array file or an image folder (read lazily)."""
    kind: str  # "record", "arrays" or "images"
    path: str

    @property
    def name(self) -> str:
        return os.path.basename(os.path.normpath(self.path))


@dataclasses.dataclass
class SourceSamples:
    """The samples of one source and a per-sample description for the output rows."""
    source: Source
    x: np.ndarray  # [N, *sample_shape]
    columns: dict  # {column: [N]}: index, and sample/time_s/annotation for beats, file for images
    beats: records.RecordBeats | None = None  # for records: peaks and signal, for plots and wrann


def _files(folder, suffixes):
    return sorted(p for p in glob.glob(os.path.join(folder, "*"))
                  if p.lower().endswith(suffixes) and os.path.isfile(p))


def discover(path: str) -> list:
    """The sources --input names: a record, a folder of records, images or array files, or a file."""
    if records.is_record(path):
        return [Source("record", records.strip(path))]
    if os.path.isfile(path):
        if path.lower().endswith(ARRAY_SUFFIXES):
            return [Source("arrays", path)]
        raise UserError(f"--input={path} is neither a WFDB record (.hea), an .npz/.npy array file "
                        "nor a folder of images")
    if not os.path.isdir(path):
        raise UserError(f"--input={path} does not exist")
    found = [Source("record", p[:-4]) for p in _files(path, (".hea",))]
    found += [Source("arrays", p) for p in _files(path, ARRAY_SUFFIXES)]
    if _files(path, IMAGE_SUFFIXES):
        found.append(Source("images", path))
    if not found:
        raise UserError(f"--input={path} holds no WFDB records (*.hea), .npz/.npy arrays or "
                        f"{'/'.join(IMAGE_SUFFIXES)} images")
    return found


def read_array_file(path: str) -> np.ndarray:
    """The samples of an .npy file, or of an .npz file's x (or its only array)."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise UserError(f"{path} is not a readable numpy file ({type(e).__name__}); write it "
                        "with numpy.save or numpy.savez(path, x=...)") from None
    if isinstance(loaded, np.ndarray):
        return loaded
    with loaded:
        names = loaded.files
        if "x" in names:
            return loaded["x"]
        if len(names) == 1:
            return loaded[names[0]]
    raise UserError(f"{path} holds arrays {names}; name the samples x")


def read_images(folder: str, sample_shape: tuple, pixel_scale: float) -> tuple:
    """([N, H, W, C] float32 images of folder times pixel_scale, [N] file names)."""
    import tensorflow as tf
    files = _files(folder, IMAGE_SUFFIXES)
    channels = sample_shape[-1]
    images = []
    for path in files:
        try:
            image = tf.io.decode_image(tf.io.read_file(path), channels=channels,
                                       expand_animations=False).numpy()
        except tf.errors.OpError as e:
            raise UserError(f"{path} is not a readable image ({e.message.splitlines()[0]})") from None
        if image.shape != tuple(sample_shape):
            raise UserError(f"{path} is {image.shape[1]}x{image.shape[0]} with {image.shape[2]} "
                            f"channel(s); the model expects {sample_shape[1]}x{sample_shape[0]} "
                            f"with {channels}")
        images.append(image.astype(np.float32) * pixel_scale)
    return np.stack(images), np.array([os.path.basename(p) for p in files])


def read(source: Source, detector, lead: str | None = None,
         causal: bool = False) -> SourceSamples:
    """The source's samples, made as the detector's training data was made (records: from
    lead, where the model's lead is named otherwise there; causal: rhythm features as a
    stream computes them)."""
    description = detector.input
    if source.kind == "record":
        beats = records.cut(source.path, description, lead, causal)
        columns = {"index": np.arange(len(beats.peaks)), "sample": beats.peaks,
                   "time_s": np.round(beats.times, 4), "annotation": beats.annotations}
        return SourceSamples(source, beats.x, columns, beats)
    if source.kind == "images":
        if description.get("kind") != "images":
            raise UserError(f"{source.path} holds images, but this model was trained on "
                            f"{description.get('source', 'other')} samples of shape "
                            f"{tuple(detector.sample_shape)}")
        x, names = read_images(source.path, tuple(detector.sample_shape),
                               description["pixel_scale"])
        return SourceSamples(source, x, {"index": np.arange(len(x)), "file": names})
    x = detector.check_samples(read_array_file(source.path))
    return SourceSamples(source, x, {"index": np.arange(len(x))})
