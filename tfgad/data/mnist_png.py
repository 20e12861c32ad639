"""5,000 MNIST digits from OpenCV's digits.png (20x20 tiles) as a one-class image task."""
import os

import ml_collections
import numpy as np

from tfgad.data.types import Samples
from tfgad.errors import UserError

FILE = "digits.png"
TILE = 20
GRID = (50, 100)  # rows x columns of tiles; every 5 rows hold one digit, 500 per class
_HOW_TO_GET = ("it is OpenCV's samples/data/digits.png (Debian: apt-get install opencv-doc, "
               "then /usr/share/doc/opencv-doc/examples/data/); pass the folder holding it as "
               "--config.data.dir=DIR")


def read_tiles(path: str) -> tuple[np.ndarray, np.ndarray]:
    """The (5000, 20, 20) uint8 tiles and their (5000,) digit labels, row by row."""
    import tensorflow as tf  # only for its PNG decoder; keeps Pillow out of the dependencies
    if not os.path.isfile(path):
        raise UserError(f"no {FILE} at {path!r}; {_HOW_TO_GET}")
    image = tf.io.decode_png(tf.io.read_file(path), channels=1).numpy()[..., 0]
    expected = (GRID[0] * TILE, GRID[1] * TILE)
    if image.shape != expected:
        raise UserError(f"{path} is {image.shape[1]}x{image.shape[0]} pixels; OpenCV's digits.png "
                        f"is {expected[1]}x{expected[0]}")
    tiles = image.reshape(GRID[0], TILE, GRID[1], TILE).transpose(0, 2, 1, 3).reshape(-1, TILE, TILE)
    labels = np.repeat(np.arange(10), len(tiles) // 10)
    return tiles, labels


def load(config: ml_collections.ConfigDict) -> Samples:
    normal = config.data.normal_class
    if normal not in range(10):
        raise UserError(f"data.normal_class={normal} is not a digit; use 0..9")
    tiles, labels = read_tiles(os.path.join(config.data.dir, FILE))
    x = (tiles / 255.0).astype(np.float32)[..., None]  # (5000, 20, 20, 1) in [0, 1]
    return Samples(x, labels != normal, np.arange(len(x)), labels.astype(str))
