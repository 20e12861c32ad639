"""Tiny CPU config for the tests: a few hundred synthetic beats, two epochs, a short search.

Run: python -m tfgad.main --config=configs/test.py   (about half a minute on 2 cores)
Expected (measured, seed 0): test AUROC 0.873, F1 0.619, MCC 0.555 on 78 test beats (max-MCC
threshold fit on 78 validation beats; max-F1 gave F1 0.735, MCC 0.630 here).
"""
from tfgad.configs import default


def get_config():
    config = default.get_config()
    config.data.num_subjects = 6
    config.data.beats_per_subject = 40
    config.data.anomaly_rate = 0.2
    config.data.length = 64
    config.data.window_before = 24
    config.data.window_after = 40
    config.data.kind_settings = "off"  # the suite's tiny sizes on every data kind
    config.model.latent_dim = 8
    config.model.base_filters = 8
    config.model.num_blocks = 2
    config.train.epochs = 2
    config.train.batch_size = 32
    config.train.sample_plot_every = 1
    config.train.verbose = 0
    config.train.robust.warmup_epochs = 1  # below the 2 epochs, where robust training is on
    config.detection.batch_size = 64
    config.search.n_max = 20
    # Never a family's default export name (gan-synthetic_ecg): a tiny model must not become
    # the "latest" version a server or tfgad.load picks up.
    config.export.name = "tfgad-test"
    # "auto" compiles and times both ways per row count: seconds the tests need not spend;
    # tests/test_latent_search.py covers it.
    config.search.jit_compile = "false"
    return config
