"""AnoGAN latent search over a batch: one compiled tf.while_loop with in-graph Adam.

For each sample x it looks for z* = argmin_z d(x, G(z)) [+ feature and chi-norm terms], with
per-sample early stop (a sample whose loss is below eps stops moving), at most n_max steps,
and R restarts that run side by side as R copies of the batch; each sample keeps the best z
over steps and restarts. The R starts are draws from the prior for the given seed, shared by
every sample, so that a sample's result depends on neither its batch nor its position in it
(an exported model then reproduces offline scores exactly).
"""
import ml_collections
import tensorflow as tf

from tfgad.errors import UserError

DISTANCES = ("l1", "l2")


def _distance(kind, x, x_hat):
    axes = list(range(1, x.shape.rank))
    diff = x - x_hat
    if kind == "l1":
        return tf.reduce_mean(tf.abs(diff), axis=axes)
    return tf.reduce_mean(tf.square(diff), axis=axes)


class LatentSearch:
    """Batched latent search for any Keras generator z [B, d] -> x [B, ...] and prior.

    Args:
      generator: callable z -> x_hat, called with training=False.
      prior: a tfgad.priors.Prior (sampling of starts, projection, chi-norm model).
      n_max: most optimization steps per sample.
      eps: a sample stops once its loss is below eps (0 disables early stop).
      learning_rate, beta_1, beta_2: Adam on z.
      distance: "l1" or "l2", mean over a sample's entries.
      restarts: R independent random starts per sample; the best result is kept.
      chi_weight: weight of the chi-norm penalty -log p(||z||), which keeps z in the prior's
        typical set.
      feature_fn, feature_weight: optional x -> features [B, F] (the discriminator's) and the
        weight of mean |f(x) - f(G(z))| in the loss (AnoGAN's lambda).
      jit_compile: compile the search with XLA.
    """

    def __init__(self, generator, prior, n_max=500, eps=0.0, learning_rate=0.05, distance="l1",
                 restarts=1, chi_weight=0.0, feature_fn=None, feature_weight=0.0,
                 jit_compile=False, beta_1=0.9, beta_2=0.999):
        if distance not in DISTANCES:
            raise UserError(f"unknown search.distance {distance!r}; known: {', '.join(DISTANCES)}")
        if n_max < 0 or restarts < 1:
            raise UserError(f"search.n_max={n_max} must be >= 0 and search.restarts={restarts} >= 1")
        if feature_weight and feature_fn is None:
            raise UserError("search.feature_weight > 0 needs a discriminator feature function")
        self.generator, self.prior = generator, prior
        self.n_max, self.eps, self.restarts = int(n_max), float(eps), int(restarts)
        self.learning_rate, self.beta_1, self.beta_2 = float(learning_rate), beta_1, beta_2
        self.distance, self.chi_weight = distance, float(chi_weight)
        self.feature_fn, self.feature_weight = feature_fn, float(feature_weight)
        self.jit_compile = bool(jit_compile)
        self._core = self._draw = None

    def settings(self) -> dict:
        """The search's settings, as recorded in outputs and export metadata."""
        return {"n_max": self.n_max, "eps": self.eps, "learning_rate": self.learning_rate,
                "distance": self.distance, "restarts": self.restarts,
                "chi_weight": self.chi_weight, "feature_weight": self.feature_weight,
                "jit_compile": self.jit_compile}

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
        if self._core is None:
            # The starts are drawn outside XLA: stateless random kernels differ under XLA,
            # and the starts must not depend on jit_compile.
            self._core = tf.function(self._search, jit_compile=self.jit_compile,
                                     reduce_retracing=True)
            self._draw = tf.function(self._initial, reduce_retracing=True)
        z_init = None if z_init is None else tf.convert_to_tensor(z_init, tf.float32)
        return self._core(x, self._draw(x, seed, z_init))

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
        x_hat = self.generator(z, training=False)
        loss = _distance(self.distance, x, x_hat)
        if self.feature_weight:
            loss += self.feature_weight * tf.reduce_mean(
                tf.abs(x_features - self.feature_fn(x_hat)), axis=-1)
        if self.chi_weight:
            loss -= self.chi_weight * self.prior.norm_log_prob(z)
        return loss

    def _search(self, x, starts):
        """Runs the loop on the R-fold tiled batch and keeps each sample's best restart."""
        batch = tf.shape(x)[0]
        x_tiled = tf.tile(x, tf.concat([[self.restarts], tf.ones([x.shape.rank - 1], tf.int32)], 0))
        x_features = self.feature_fn(x_tiled) if self.feature_weight else None
        z, loss, iterations = self._optimize(x_tiled, starts, x_features)
        # [R * B] -> [R, B]: pick each sample's restart with the lowest loss.
        best = tf.argmin(tf.reshape(loss, [self.restarts, batch]), axis=0, output_type=tf.int32)
        index = best * batch + tf.range(batch)
        z = tf.gather(z, index)
        return {"z": z, "x_hat": self.generator(z, training=False),
                "loss": tf.gather(loss, index), "iterations": tf.gather(iterations, index)}

    def _optimize(self, x, z0, x_features):
        n = tf.shape(z0)[0]
        b1, b2, lr = self.beta_1, self.beta_2, self.learning_rate

        def cond(step, z, m, v, active, iterations, best_loss, best_z):
            return tf.logical_and(step < self.n_max, tf.reduce_any(active))

        def body(step, z, m, v, active, iterations, best_loss, best_z):
            with tf.GradientTape() as tape:
                tape.watch(z)
                loss = self.objective(x, z, x_features)
                # Samples are independent: the gradient of the sum is each one's own gradient.
                total = tf.reduce_sum(loss)
            grad = tape.gradient(total, z)
            improved = loss < best_loss
            best_loss = tf.where(improved, loss, best_loss)
            best_z = tf.where(improved[:, None], z, best_z)
            active = tf.logical_and(active, loss >= self.eps)
            t = tf.cast(step + 1, tf.float32)
            m_next = b1 * m + (1 - b1) * grad
            v_next = b2 * v + (1 - b2) * tf.square(grad)
            update = lr * (m_next / (1 - b1 ** t)) / (tf.sqrt(v_next / (1 - b2 ** t)) + 1e-8)
            keep = active[:, None]
            z = tf.where(keep, self.prior.project(z - update), z)
            m, v = tf.where(keep, m_next, m), tf.where(keep, v_next, v)
            iterations += tf.cast(active, tf.int32)
            return step + 1, z, m, v, active, iterations, best_loss, best_z

        zeros = tf.zeros_like(z0)
        state = (tf.constant(0), z0, zeros, zeros, tf.ones([n], tf.bool), tf.zeros([n], tf.int32),
                 tf.fill([n], float("inf")), z0)
        _, z, _, _, _, iterations, best_loss, best_z = tf.while_loop(
            cond, body, state, maximum_iterations=self.n_max + 1)
        # The last step's z has not been evaluated yet.
        final = self.objective(x, z, x_features)
        improved = final < best_loss
        return (tf.where(improved[:, None], z, best_z), tf.where(improved, final, best_loss),
                iterations)


def from_config(config: ml_collections.ConfigDict, generator, prior,
                feature_fn=None) -> LatentSearch:
    s = config.search
    return LatentSearch(generator, prior, n_max=s.n_max, eps=s.eps, learning_rate=s.learning_rate,
                        distance=s.distance, restarts=s.restarts, chi_weight=s.chi_weight,
                        feature_fn=feature_fn, feature_weight=s.feature_weight,
                        jit_compile=s.jit_compile)
