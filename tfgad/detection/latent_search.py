"""AnoGAN latent search over a batch: compiled tf.while_loops with in-graph Adam.

For each sample x it looks for z* = argmin_z d(x, G(z)) [+ feature and chi-norm terms], with
per-sample early stop (a sample whose loss is below eps stops moving), at most n_max steps,
and R restarts that run side by side as R copies of the batch; each sample keeps the best z
over steps and restarts. The R starts are draws from the prior for the given seed, shared by
every sample, so that a sample's result depends on neither its batch nor its position in it
(an exported model then reproduces offline scores exactly).

Where rows stop at different times (eps > 0, or restarts dropped by successive halving) the
loop runs in chunks of steps and only the rows still active go into the next chunk
(compaction), so that the cost follows the number of active rows. A row's steps are the same
computation either way. XLA or not is chosen per row count by timing both (xla_choice).
"""
import math

import ml_collections
import tensorflow as tf

from tfgad.detection import xla_choice
from tfgad.errors import UserError
from tfgad.models.folding import FoldedGenerator
from tfgad.sections.search import SEARCH

# The search section's fields a LatentSearch takes (the others choose its start and budget).
SETTINGS = ("n_max", "eps", "learning_rate", "distance", "restarts", "chi_weight",
            "feature_weight", "jit_compile", "compaction", "compact_every", "restart_schedule",
            "halving_steps", "fold_batch_norm", "stop_patience", "stop_tolerance")
PROBE_STEPS = 10  # steps timed each way when jit_compile is "auto"


def _distance(kind, x, x_hat):
    axes = list(range(1, x.shape.rank))
    diff = x - x_hat
    if kind == "l1":
        return tf.reduce_mean(tf.abs(diff), axis=axes)
    return tf.reduce_mean(tf.square(diff), axis=axes)


def _gather(t, rows):
    return None if t is None else tf.gather(t, rows)


def _bucket(rows: int) -> int:
    """Rows padded to the next power of two: XLA compiles once per shape, and this bounds the
    shapes a compacted search meets to log2(batch)."""
    return 1 << max(rows - 1, 0).bit_length()


class LatentSearch:
    """Batched latent search for any Keras generator z [B, d] -> x [B, ...] and prior.

    Args:
      generator: callable z -> x_hat, called with training=False.
      prior: a tfgad.priors.Prior (sampling of starts, projection, chi-norm model).
      feature_fn: optional x -> features [B, F] (the discriminator's), for feature_weight.
      beta_1, beta_2: Adam on z.
      **settings: fields of the search section (SETTINGS; tfgad/sections/search.py), each at
        its declared default unless given:
      n_max: most optimization steps per sample.
      eps: a sample stops once its loss is below eps (0 disables early stop).
      learning_rate: Adam on z.
      distance: "l1" or "l2", mean over a sample's entries.
      restarts: R independent random starts per sample; the best result is kept.
      chi_weight: weight of the chi-norm penalty -log p(||z||), which keeps z in the prior's
        typical set.
      feature_weight: the weight of mean |f(x) - f(G(z))| in the loss (AnoGAN's lambda).
      jit_compile: True, False, or "auto": time both on the first call per row count.
      compaction: run stopped rows no further (chunks of compact_every steps).
      restart_schedule: "full" (every restart runs to the end) or "halving": every
        halving_steps steps each sample keeps the better half of its restarts, until one is left.
      fold_batch_norm: search with a copy of the generator whose normalizations are folded
        into the layers before them (same function, fewer operations per step).
      stop_patience, stop_tolerance: a sample also stops once its best loss has not improved
        by stop_tolerance (relative) for stop_patience steps (0: off): each sample runs as
        long as it still gains, not n_max steps.
    """

    def __init__(self, generator, prior, feature_fn=None, beta_1=0.9, beta_2=0.999,
                 **settings):
        unknown = sorted(set(settings) - set(SETTINGS))
        if unknown:
            raise TypeError(f"LatentSearch got {unknown}; its settings: {', '.join(SETTINGS)}")
        settings = {f.name: f.default for f in SEARCH.fields if f.name in SETTINGS} | settings
        jit_compile = settings.pop("jit_compile")  # True, False or "auto"
        SEARCH.check(settings)  # the search section's own checks and messages
        if settings["feature_weight"] and feature_fn is None:
            raise UserError("search.feature_weight > 0 needs a discriminator feature function")
        (n_max, eps, learning_rate, distance, restarts, chi_weight, feature_weight, compaction,
         compact_every, restart_schedule, halving_steps, fold_batch_norm, stop_patience,
         stop_tolerance) = (settings[name] for name in SETTINGS if name != "jit_compile")
        self.jit_compile = xla_choice.parse(jit_compile)
        self.generator, self.prior = generator, prior
        self.n_max, self.eps, self.restarts = int(n_max), float(eps), int(restarts)
        self.learning_rate, self.beta_1, self.beta_2 = float(learning_rate), beta_1, beta_2
        self.distance, self.chi_weight = distance, float(chi_weight)
        self.feature_fn, self.feature_weight = feature_fn, float(feature_weight)
        self.compaction, self.compact_every = bool(compaction), int(compact_every)
        self.restart_schedule, self.halving_steps = restart_schedule, int(halving_steps)
        self.stop_patience, self.stop_tolerance = int(stop_patience), float(stop_tolerance)
        folded = FoldedGenerator(generator) if fold_batch_norm else None
        self.folded = folded if folded is not None and folded.folded else None
        self._search_generator = self.folded or generator
        self._steps = {False: tf.function(self._run_steps, reduce_retracing=True),
                       True: tf.function(self._run_steps, jit_compile=True, reduce_retracing=True)}
        # The starts are drawn outside XLA: stateless random kernels differ under XLA,
        # and the starts must not depend on jit_compile.
        self._draw = tf.function(self._initial, reduce_retracing=True)
        self._finish = tf.function(self._select, reduce_retracing=True)

    def settings(self) -> dict:
        """The search's settings, as recorded in outputs and export metadata; with "auto", the
        XLA choices measured so far for this generator."""
        out = {"n_max": self.n_max, "eps": self.eps, "learning_rate": self.learning_rate,
               "distance": self.distance, "restarts": self.restarts,
               "chi_weight": self.chi_weight, "feature_weight": self.feature_weight,
               "compaction": self.compaction,
               "compact_every": self.compact_every, "restart_schedule": self.restart_schedule,
               "halving_steps": self.halving_steps,
               "stop_patience": self.stop_patience, "stop_tolerance": self.stop_tolerance,
               "batch_norm_folded": self.folded is not None}
        return {**out, **xla_choice.described(self.jit_compile, self.generator)}

    def networks(self) -> list:
        """The Keras models the search owns (the folded copy), which an export must track."""
        return [] if self.folded is None else [self.folded.model]

    def __call__(self, x, seed=(0, 0), z_init=None):
        """Searches z for a batch.

        Args:
          x: [B, ...] samples.
          seed: stateless seed [2] for the starts drawn from the prior.
          z_init: optional [B, d] start (e.g. an encoder's E(x)) for the first restart.

        Returns:
          dict of z [B, d], x_hat [B, ...], loss [B] (best search loss), iterations [B] int32
          (steps used in the restart that gave the best z).
        """
        x = tf.convert_to_tensor(x, tf.float32)
        seed = tf.convert_to_tensor(seed, tf.int32)
        z_init = None if z_init is None else tf.convert_to_tensor(z_init, tf.float32)
        if self.folded is not None:
            self.folded.refresh()  # the generator's weights as they are now
        starts = self._draw(x, seed, z_init)
        x_tiled = tf.tile(x, tf.concat([[self.restarts], tf.ones([x.shape.rank - 1], tf.int32)], 0))
        x_features = self.feature_fn(x_tiled) if self.feature_weight else None
        n = self.restarts * x.shape[0] if x.shape[0] is not None else None
        zeros = tf.zeros_like(starts)
        rows = tf.shape(starts)[0]
        state = (starts, zeros, zeros, tf.ones([rows], tf.bool), tf.zeros([rows], tf.int32),
                 tf.fill([rows], float("inf")), starts, tf.zeros([rows], tf.int32))
        if self._chunked(n):
            state = self._run_chunks(x_tiled, x_features, state)
        elif self.n_max:
            state = self._all_rows(n, x_tiled, x_features, state, 0, self.n_max)
        return self._finish(x, x_tiled, x_features, state)

    def _chunked(self, rows):
        """Whether rows can stop at different steps, so that compaction or halving pays."""
        halving = self.restart_schedule == "halving" and self.restarts > 1
        stops_early = self.eps > 0 or self.stop_patience > 0
        return self.n_max > 0 and (halving or (self.compaction and stops_early and rows != 1))

    def _boundaries(self):
        """The steps after which the active rows are gathered anew (and restarts halved)."""
        ends = set(range(self.compact_every, self.n_max, self.compact_every)) if self.compaction else set()
        return sorted(ends | set(self._rungs()) | {self.n_max})

    def _rungs(self):
        if self.restart_schedule != "halving" or self.restarts == 1:
            return []
        rounds = math.ceil(math.log2(self.restarts))
        return [self.halving_steps * r for r in range(1, rounds + 1)
                if self.halving_steps * r < self.n_max]

    def _run_chunks(self, x, x_features, state):
        in_race = tf.ones_like(state[3])
        step, rungs, all_rows = 0, set(self._rungs()), state[0].shape[0]
        for end in self._boundaries():
            active = state[3]
            if self.compaction:
                rows = tf.cast(tf.where(active)[:, 0], tf.int32)
                if tf.executing_eagerly() and int(tf.size(rows)) == 0:
                    break
                state = self._run_rows(rows, x, x_features, state, step, end - step)
            else:
                state = self._all_rows(all_rows, x, x_features, state, step, end - step)
            step = end
            if end in rungs:
                in_race = self._halve(in_race, state[5])
                state = state[:3] + (tf.logical_and(state[3], in_race),) + state[4:]
        return state

    def _run_rows(self, rows, x, x_features, state, step, steps):
        """Runs only the given rows for steps and writes their new state back into state."""
        take = lambda index: (tf.gather(x, index), _gather(x_features, index),
                              tuple(tf.gather(t, index) for t in state))
        count, index, use_xla = tf.size(rows), rows, False
        if tf.executing_eagerly() and self.jit_compile is not False:
            count = int(count)
            # XLA compiles per shape: pad to a bucket with repeats of a row (computed, dropped).
            padded = tf.concat([rows, tf.repeat(rows[:1], _bucket(count) - count)], 0)
            use_xla = self._use_xla(_bucket(count), lambda: take(padded), step, steps)
            index = padded if use_xla else rows
        new = self._run(use_xla, *take(index), step, steps)
        return tuple(tf.tensor_scatter_nd_update(t, rows[:, None], n[:count])
                     for t, n in zip(state, new))

    def _use_xla(self, rows, inputs, step, steps) -> bool:
        """XLA or not for this row count: forced, or measured on inputs() = (x, x_features,
        state), which is called only when a measurement is needed."""
        probe = min(steps, PROBE_STEPS)

        def probes():
            args = inputs()
            return (lambda: self._run(False, *args, step, probe),
                    lambda: self._run(True, *args, step, probe))

        return xla_choice.decide(self.jit_compile, self.generator, rows, probes)

    def _run(self, xla, x, x_features, state, step, steps):
        return self._steps[bool(xla)](x, x_features, state, tf.constant(step, tf.int32),
                                      tf.constant(steps, tf.int32))[1]

    def _all_rows(self, rows, x, x_features, state, step, steps):
        """Runs steps on all rows of state with the faster (or the forced) compilation."""
        use_xla = self._use_xla(rows, lambda: (x, x_features, state), step, steps)
        return self._run(use_xla, x, x_features, state, step, steps)

    def _halve(self, in_race, best_loss):
        """Each sample keeps the better half (rounded up) of its restarts still in the race."""
        losses = tf.reshape(tf.where(in_race, best_loss, float("inf")), [self.restarts, -1])
        ranks = tf.argsort(tf.argsort(losses, axis=0, stable=True), axis=0, stable=True)
        racing = tf.reduce_sum(tf.cast(tf.reshape(in_race, [self.restarts, -1]), tf.int32), 0)
        keep = ranks < (racing + 1) // 2
        return tf.reshape(keep, [-1])

    def _initial(self, x, seed, z_init=None):
        """The starts [R * B, d]: z_init (if given) and shared draws from the prior."""
        batch = tf.shape(x)[0]
        if z_init is None:
            return self.starts(self.restarts, batch, seed)
        starts = self.prior.project(z_init)
        if self.restarts > 1:
            starts = tf.concat([starts, self.starts(self.restarts - 1, batch, seed)], axis=0)
        return starts

    def starts(self, count: int, batch, seed: tf.Tensor) -> tf.Tensor:
        """count shared starts from the prior, each repeated for the batch: [count * batch, d]."""
        return tf.repeat(self.prior.sample(count, seed=seed), batch, axis=0)

    def objective(self, x: tf.Tensor, z: tf.Tensor, x_features=None) -> tf.Tensor:
        """Search loss per sample [B] at z."""
        x_hat = self._search_generator(z, training=False)
        loss = _distance(self.distance, x, x_hat)
        if self.feature_weight:
            loss += self.feature_weight * tf.reduce_mean(
                tf.abs(x_features - self.feature_fn(x_hat)), axis=-1)
        if self.chi_weight:
            loss -= self.chi_weight * self.prior.norm_log_prob(z)
        return loss

    def _select(self, x, x_tiled, x_features, state):
        """Evaluates the last z of every row, then keeps each sample's best restart."""
        z, _, _, _, iterations, best_loss, best_z, _ = state
        final = self.objective(x_tiled, z, x_features)  # the last step's z is not evaluated yet
        improved = final < best_loss
        z = tf.where(improved[:, None], z, best_z)
        loss = tf.where(improved, final, best_loss)
        batch = tf.shape(x)[0]
        # [R * B] -> [R, B]: pick each sample's restart with the lowest loss.
        best = tf.argmin(tf.reshape(loss, [self.restarts, batch]), axis=0, output_type=tf.int32)
        index = best * batch + tf.range(batch)
        z = tf.gather(z, index)
        return {"z": z, "x_hat": self.generator(z, training=False),
                "loss": tf.gather(loss, index), "iterations": tf.gather(iterations, index)}

    def _run_steps(self, x, x_features, state, step0, steps):
        """Adam steps on the rows of state from step step0, at most steps, while any is active.

        Returns:
          (step reached, state): state is (z, m, v, active, iterations, best_loss, best_z,
          stall), stall the steps since the best loss last improved by stop_tolerance.
        """
        b1, b2, lr = self.beta_1, self.beta_2, self.learning_rate
        end = step0 + steps

        def cond(step, z, m, v, active, iterations, best_loss, best_z, stall):
            return tf.logical_and(step < end, tf.reduce_any(active))

        def body(step, z, m, v, active, iterations, best_loss, best_z, stall):
            # Only z is watched: no gradient towards the generator's weights is asked for.
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(z)
                loss = self.objective(x, z, x_features)
                # Samples are independent: the gradient of the sum is each one's own gradient.
                total = tf.reduce_sum(loss)
            grad = tape.gradient(total, z)
            improved = loss < best_loss
            # Gained enough to keep going: by stop_tolerance of the best loss so far (the
            # first step always counts as a gain: there is no best loss yet).
            finite = tf.math.is_finite(best_loss)
            gained = loss < tf.where(finite, best_loss - self.stop_tolerance * tf.abs(best_loss),
                                     best_loss)
            stall = tf.where(gained, 0, stall + 1)
            best_loss = tf.where(improved, loss, best_loss)
            best_z = tf.where(improved[:, None], z, best_z)
            active = tf.logical_and(active, loss >= self.eps)
            if self.stop_patience:
                active = tf.logical_and(active, stall < self.stop_patience)
            t = tf.cast(step + 1, tf.float32)
            m_next = b1 * m + (1 - b1) * grad
            v_next = b2 * v + (1 - b2) * tf.square(grad)
            update = lr * (m_next / (1 - b1 ** t)) / (tf.sqrt(v_next / (1 - b2 ** t)) + 1e-8)
            keep = active[:, None]
            z = tf.where(keep, self.prior.project(z - update), z)
            m, v = tf.where(keep, m_next, m), tf.where(keep, v_next, v)
            iterations += tf.cast(active, tf.int32)
            return step + 1, z, m, v, active, iterations, best_loss, best_z, stall

        out = tf.while_loop(cond, body, (step0,) + tuple(state), maximum_iterations=steps)
        return out[0], tuple(out[1:])


def from_config(config: ml_collections.ConfigDict, generator, prior,
                feature_fn=None) -> LatentSearch:
    return LatentSearch(generator, prior, feature_fn,
                        **{name: config.search[name] for name in SETTINGS})
