"""Anomaly maps measured against known anomaly regions: point-level AUROC on the synthetic ECG
(the generator records where each anomaly changed the beat: QRS, P wave, ST segment, T wave,
noise burst) and pixel-level AUROC on MNIST digits (OpenCV's digits.png) with pasted defects of
known position, tfgad's residual map against the conv autoencoder's on the same data.

Usage:
  python scripts/benchmark_maps.py [--seeds=0] [--families=aegan,anogan]
      [--mnist=../shared/data/mnist-opencv] [--output=results/maps.json]

Point/pixel AUROC pools every point of every test sample (normal samples' points are all
negatives), as anomalib's pixel AUROC does. Each family is fit one-class (tfgad.Detector, no
labelled anomaly) on the normal training samples; the conv autoencoder
(tfgad.baselines.conv_autoencoder_model) gets the same normalized training samples, network and
epochs. Writes JSON and a markdown table beside it.
"""
import argparse
import os
import platform
import statistics

import tfgad  # sets TF log level and Keras backend before TF is imported
import numpy as np
from scipy import ndimage
from sklearn.metrics import roc_auc_score

from tfgad import baselines, config_files, io_utils
from tfgad.data import mnist_png, normalization as normalization_lib, synthetic_ecg
from tfgad.detection import maps

ECG_OVERRIDES = {"train.epochs": 10, "data.num_subjects": 20, "data.beats_per_subject": 150}
DEFECT = 5  # pixels on a side of a pasted square on the 20x20 digits
# A Gaussian blur of the maps (sigma in time steps or pixels), as anomalib smooths its maps:
# the defects are contiguous, the residual of a good reconstruction is speckle.
SMOOTHING = 1.0


def ecg_data(seed: int):
    """(normal training beats, test beats, their region masks) of the synthetic ECG."""
    config = config_files.load("aegan")
    config_files.override(config, {k: v for k, v in ECG_OVERRIDES.items()
                                   if k.startswith("data.")})
    config.seed = seed
    samples, regions = synthetic_ecg.load_with_regions(config)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(samples.x))
    normal = order[samples.y[order] == 0]
    train = normal[: int(0.7 * len(normal))]
    test = np.setdiff1d(order, train)
    return samples.x[train], samples.x[test], regions[test]


def digit_data(folder: str, seed: int, normal_class: int = 0):
    """(normal training digits, test digits of the normal class with a pasted square on half
    of them, the squares' masks). A square is bright or dark (the digits' max or min), placed
    at random."""
    tiles, labels = mnist_png.read_tiles(os.path.join(folder, mnist_png.FILE))
    x = tiles[labels == normal_class].astype(np.float32)[..., None] / 255.0
    rng = np.random.default_rng(seed)
    x = x[rng.permutation(len(x))]
    train, test = x[: int(0.7 * len(x))], x[int(0.7 * len(x)):].copy()
    masks = np.zeros(test.shape[:3], bool)
    size = test.shape[1]
    for i in rng.choice(len(test), len(test) // 2, replace=False):
        r, c = rng.integers(0, size - DEFECT, 2)
        test[i, r:r + DEFECT, c:c + DEFECT, 0] = rng.choice([0.0, 1.0])
        masks[i, r:r + DEFECT, c:c + DEFECT] = True
    return train, test, masks


def measure(family: str, train, test, masks, seed: int, overrides: dict) -> dict:
    """Point-level AUROC of the family's map and of the conv autoencoder's, one fit each."""
    detector = tfgad.Detector(family, overrides={**overrides, "seed": seed}, verbose=0)
    detector.fit(train)
    tfgad_map, tfgad_train = detector.score(test).anomaly_map, detector.score(train).anomaly_map
    config = detector.config_
    norm = detector.normalization_
    train_n, test_n = (normalization_lib.apply(norm, a) for a in (train, test))
    autoencoder = baselines.conv_autoencoder_model(train_n, config)
    ae_map, ae_train = (maps.residual_map(a, autoencoder.predict(a, batch_size=256, verbose=0))
                        for a in (test_n, train_n))
    auroc = lambda m: float(roc_auc_score(masks.ravel(), m.ravel()))
    smooth = lambda m: ndimage.gaussian_filter(m, [0] + [SMOOTHING] * (m.ndim - 1))
    # Each point's map over its typical value on normal training samples (a z-score per
    # position): sharp normal features (the QRS, a stroke's edge) stop outshining anomalies.
    per_point = lambda m, normal: (m - normal.mean(0)) / (normal.std(0) + 1e-6)
    return {"tfgad": auroc(tfgad_map), "conv_ae": auroc(ae_map),
            "tfgad_smoothed": auroc(smooth(tfgad_map)), "conv_ae_smoothed": auroc(smooth(ae_map)),
            "tfgad_per_point": auroc(per_point(tfgad_map, tfgad_train)),
            "conv_ae_per_point": auroc(per_point(ae_map, ae_train)),
            "points": int(masks.size), "anomalous_points": int(masks.sum())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--families", default="aegan,anogan")
    parser.add_argument("--mnist", default="../shared/data/mnist-opencv")
    parser.add_argument("--output", default="results/maps.json")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for family in args.families.split(","):
        for suite in ("synthetic_ecg", "mnist_pasted_defects"):
            runs = []
            for seed in seeds:
                if suite == "synthetic_ecg":
                    data, overrides = ecg_data(seed), {"train.epochs": ECG_OVERRIDES["train.epochs"]}
                else:
                    data, overrides = digit_data(args.mnist, seed), {}
                runs.append(measure(family, *data, seed, overrides))
                print(family, suite, seed, runs[-1], flush=True)
            rows.append({"family": family, "suite": suite, "seeds": seeds, "runs": runs,
                         **{k: statistics.mean(r[k] for r in runs)
                            for k in ("tfgad", "conv_ae", "tfgad_smoothed", "conv_ae_smoothed",
                                      "tfgad_per_point", "conv_ae_per_point")}})
    result = {"machine": platform.processor() or platform.machine(), "rows": rows,
              "ecg_overrides": ECG_OVERRIDES, "defect_pixels": DEFECT, "smoothing": SMOOTHING}
    io_utils.write_json(args.output, result)
    table = ["| family | suite | point/pixel AUROC, tfgad map | conv autoencoder map | "
             f"tfgad, blurred (sigma {SMOOTHING:g}) | conv AE, blurred | tfgad, per-point z | "
             "conv AE, per-point z |", "|---|---|---|---|---|---|---|---|"]
    table += [f"| {r['family']} | {r['suite']} | {r['tfgad']:.3f} | {r['conv_ae']:.3f} | "
              f"{r['tfgad_smoothed']:.3f} | {r['conv_ae_smoothed']:.3f} | "
              f"{r['tfgad_per_point']:.3f} | {r['conv_ae_per_point']:.3f} |" for r in rows]
    io_utils.write_text(os.path.splitext(args.output)[0] + ".md", "\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
