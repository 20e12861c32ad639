"""Batched latent search: lowers the residual, stops per sample, restarts never hurt."""
import numpy as np
import pytest
import tensorflow as tf

from tfgad.detection import xla_choice
from tfgad.detection.latent_search import LatentSearch
from tfgad.errors import UserError
from tfgad.models import networks
from tfgad.priors import Prior


@pytest.fixture(scope="module")
def setup():
    tf.keras.utils.set_random_seed(0)
    generator = networks.build_generator((32, 1), 4, base_filters=8, num_blocks=2)
    prior = Prior("normal", 4)
    z_true = prior.sample(8, seed=tf.constant([1, 2]))
    return generator, prior, z_true, generator(z_true, training=False)


def residual(x, x_hat):
    return np.abs(np.asarray(x) - np.asarray(x_hat)).mean(axis=(1, 2))


@pytest.mark.parametrize("jit", [False, True])
def test_search_lowers_the_residual(setup, jit):
    generator, prior, _, x = setup
    search = LatentSearch(generator, prior, n_max=150, learning_rate=0.05, jit_compile=jit)
    start = search.starts(1, 8, tf.constant([5, 6]))  # the start the search draws for this seed
    before = residual(x, generator(start, training=False))
    out = search(x, seed=(5, 6))
    after = residual(x, out["x_hat"])
    assert out["z"].shape == (8, 4) and out["x_hat"].shape == (8, 32, 1)
    assert out["loss"].shape == (8,) and out["iterations"].dtype == tf.int32
    # The search runs a copy of G with BatchNorm folded in: the same function, other rounding.
    np.testing.assert_allclose(out["loss"].numpy(), after, rtol=1e-4, atol=1e-6)
    assert (after < before).all()
    assert after.mean() < 0.5 * before.mean()


def test_each_sample_stops_on_its_own(setup):
    generator, prior, z_true, x = setup
    # Half the batch starts at its true code (loss 0, already at target), half far away.
    far = prior.project(-z_true[4:] * 2.0)
    z_init = tf.concat([z_true[:4], far], axis=0)
    search = LatentSearch(generator, prior, n_max=300, eps=1e-3)
    out = search(x, z_init=z_init)
    iterations = out["iterations"].numpy()
    np.testing.assert_array_equal(iterations[:4], 0)
    assert (iterations[4:] > 0).all()
    assert (out["loss"].numpy()[:4] < 1e-3).all()


def test_a_sample_stops_once_its_loss_stops_improving(setup):
    generator, prior, z_true, x = setup
    # Half the batch starts at its true code (nothing to gain), half far away.
    z_init = tf.concat([z_true[:4], prior.project(-z_true[4:] * 2.0)], axis=0)
    plain = LatentSearch(generator, prior, n_max=300)(x, z_init=z_init)
    stopping = LatentSearch(generator, prior, n_max=300, stop_patience=15, stop_tolerance=1e-3)
    out = stopping(x, z_init=z_init)
    steps = out["iterations"].numpy()
    np.testing.assert_array_equal(plain["iterations"].numpy(), 300)
    # At the answer from the start: stops after exactly the patience.
    np.testing.assert_array_equal(steps[:4], 15)
    assert (steps[4:] > 15).all() and steps.max() < 300
    # Where it stopped, further steps would not have gained much.
    assert out["loss"].numpy()[4:].mean() < 1.5 * plain["loss"].numpy()[4:].mean() + 1e-3
    # Per sample: a sample's steps do not depend on its batch.
    alone = stopping(x[5:6], z_init=z_init[5:6])
    assert int(alone["iterations"][0]) == steps[5]
    with pytest.raises(UserError, match="search.stop_patience=-1"):
        LatentSearch(generator, prior, stop_patience=-1)


def test_results_do_not_depend_on_the_batch(setup):
    generator, prior, _, x = setup
    search = LatentSearch(generator, prior, n_max=40, restarts=2)
    whole = search(x, seed=(1, 2))
    parts = [search(x[i:i + 3], seed=(1, 2)) for i in range(0, 8, 3)]
    np.testing.assert_allclose(np.concatenate([p["loss"].numpy() for p in parts]),
                               whole["loss"].numpy(), rtol=1e-4, atol=1e-6)


def test_n_max_bounds_the_iterations(setup):
    generator, prior, _, x = setup
    out = LatentSearch(generator, prior, n_max=7)(x, seed=(1, 1))
    assert out["iterations"].numpy().max() == 7


def test_restarts_never_make_a_sample_worse(setup):
    generator, prior, _, x = setup
    start = prior.sample(8, seed=tf.constant([9, 9]))
    single = LatentSearch(generator, prior, n_max=30, restarts=1)(x, z_init=start)
    multi = LatentSearch(generator, prior, n_max=30, restarts=4)(x, seed=(3, 4), z_init=start)
    assert (multi["loss"].numpy() <= single["loss"].numpy() + 1e-7).all()


def test_truncated_prior_keeps_z_in_its_support(setup):
    generator, _, _, x = setup
    prior = Prior("truncated_normal", 4, truncation=0.5)
    out = LatentSearch(generator, prior, n_max=50, learning_rate=0.5)(x, seed=(1, 2))
    assert np.abs(out["z"].numpy()).max() <= 0.5 + 1e-6


def test_chi_penalty_pulls_norms_to_the_chi_mode():
    # A generator that ignores z leaves the chi-norm penalty as the only force on z.
    constant = lambda z, training=False: tf.zeros([tf.shape(z)[0], 32, 1]) + 0.0 * z[:, :1, None]
    prior = Prior("normal", 4)
    x = tf.zeros([8, 32, 1])
    start = prior.sample(8, seed=tf.constant([4, 4])) * 4.0  # atypically large norms
    free = LatentSearch(constant, prior, n_max=300)(x, z_init=start)
    held = LatentSearch(constant, prior, n_max=800, chi_weight=1.0)(x, z_init=start)
    np.testing.assert_allclose(free["z"].numpy(), start.numpy())
    # -log chi_4(r) is smallest at r = sqrt(d - 1).
    np.testing.assert_allclose(np.linalg.norm(held["z"].numpy(), axis=1), np.sqrt(3.0), atol=0.05)


def test_bad_settings_are_named():
    generator = networks.build_generator((32, 1), 4, base_filters=8, num_blocks=2)
    with pytest.raises(UserError, match="known: l1, l2"):
        LatentSearch(generator, Prior("normal", 4), distance="cosine")
    with pytest.raises(UserError, match="restarts"):
        LatentSearch(generator, Prior("normal", 4), restarts=0)


def spread_batch(setup):
    """x whose samples need different numbers of steps to reach eps (noise of growing size)."""
    generator, prior, z_true, x = setup
    noise = tf.random.stateless_normal(x.shape, seed=[3, 3])
    return x + noise * tf.linspace(0.0, 0.2, 8)[:, None, None]


def row_counts(search):
    """Records the rows of every chunk the search runs (plain graphs)."""
    counts, plain = [], search._steps[False]

    def spy(x, *args):
        counts.append(int(x.shape[0]))
        return plain(x, *args)

    search._steps[False] = spy
    return counts


def test_compaction_gives_the_same_results_on_fewer_rows(setup):
    generator, prior, _, _ = setup
    x = spread_batch(setup)
    kwargs = dict(n_max=200, eps=0.02, jit_compile=False, compact_every=10)
    whole = LatentSearch(generator, prior, compaction=False, **kwargs)
    compact = LatentSearch(generator, prior, **kwargs)
    counts = row_counts(compact)
    a, b = whole(x, seed=(1, 2)), compact(x, seed=(1, 2))
    np.testing.assert_array_equal(a["iterations"].numpy(), b["iterations"].numpy())
    np.testing.assert_allclose(b["loss"].numpy(), a["loss"].numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(b["z"].numpy(), a["z"].numpy(), rtol=1e-4, atol=1e-5)
    iterations = a["iterations"].numpy()
    assert iterations.min() < iterations.max()  # the case needs samples that stop at other steps
    assert counts[0] == 8 and counts[-1] < 8 and counts == sorted(counts, reverse=True)
    # Each chunk holds the samples still moving at its start: the row-steps follow the stops.
    assert sum(c * 10 for c in counts) < 8 * (iterations.max() + 10)


def test_halving_keeps_the_better_half_until_one_restart_is_left(setup):
    generator, prior, _, x = setup
    search = LatentSearch(generator, prior, n_max=60, restarts=4, restart_schedule="halving",
                          halving_steps=10, jit_compile=False)
    counts = row_counts(search)
    out = search(x, seed=(3, 4))
    # Chunks end at the rungs (10, 20) and every compact_every=20 steps (40, 60): 4 restarts
    # of 8 samples, then 2 from step 10, then 1 from step 20 on.
    assert counts == [32, 16, 8, 8]
    full = LatentSearch(generator, prior, n_max=60, restarts=4, jit_compile=False)(x, seed=(3, 4))
    # Halving may drop the restart that would have won later, but on most samples it keeps it
    # (measured: 7 of 8 here, the same loss as running all 4 restarts to the end).
    same = np.isclose(out["loss"].numpy(), full["loss"].numpy(), rtol=1e-4, atol=1e-7)
    assert same.sum() >= 6 and np.isfinite(out["loss"].numpy()).all()
    parts = [search(x[i:i + 3], seed=(3, 4)) for i in range(0, 8, 3)]  # batch-independent
    np.testing.assert_allclose(np.concatenate([p["loss"].numpy() for p in parts]),
                               out["loss"].numpy(), rtol=1e-4, atol=1e-6)


def test_halve_ranks_each_samples_restarts_by_its_own_losses(setup):
    generator, prior, _, _ = setup
    search = LatentSearch(generator, prior, restarts=3, restart_schedule="halving")
    # Two samples, three restarts each (rows r * 2 + b); sample 1's restart 2 already dropped.
    losses = tf.constant([0.3, 0.1, 0.2, 0.5, 0.1, 0.0])
    in_race = tf.constant([True, True, True, True, True, False])
    keep = search._halve(in_race, losses).numpy().reshape(3, 2)
    # Sample 0: 3 racing -> keeps 2 (0.1, 0.2 at restarts 2, 1); sample 1: 2 racing -> 1 (0.1).
    np.testing.assert_array_equal(keep, [[False, True], [True, False], [True, False]])


def test_auto_times_both_once_per_row_count_and_reports_it(setup):
    generator, prior, _, x = setup
    search = LatentSearch(generator, prior, n_max=15, jit_compile="auto")
    calls = []
    original = xla_choice._run
    xla_choice._run = lambda fn: (calls.append(1), original(fn))
    try:
        search(x[:5], seed=(1, 1))
        measured = len(calls)
        search(x[:5], seed=(2, 2))  # cached: no new measurement
        assert len(calls) == measured > 0
    finally:
        xla_choice._run = original
    choices = [c for c in search.settings()["xla_choices"] if c["rows"] == 5]
    assert len(choices) == 1 and isinstance(choices[0]["xla"], bool)
    assert choices[0]["xla"] == (choices[0]["xla_ms"] < choices[0]["plain_ms"])


@pytest.mark.parametrize("value, expected", [("auto", "auto"), ("True", True), (False, False),
                                             ("false", False)])
def test_jit_compile_accepts_auto_and_booleans(value, expected):
    assert xla_choice.parse(value) == expected


def test_unknown_jit_compile_and_schedule_are_named():
    generator = networks.build_generator((32, 1), 4, base_filters=8, num_blocks=2)
    with pytest.raises(UserError, match="search.jit_compile='sometimes'; choose auto"):
        LatentSearch(generator, Prior("normal", 4), jit_compile="sometimes")
    with pytest.raises(UserError, match="restart_schedule 'random'; known: full, halving"):
        LatentSearch(generator, Prior("normal", 4), restart_schedule="random")
