"""The saved calibration as a TensorFlow function of core ops, so exported models can carry it."""
import tensorflow as tf


class CalibratedScore(tf.Module):
    """components {name: [B]} -> (score [B] float32, is_anomaly [B] bool).

    Computes in float64 so that it matches the numpy calibration (and scikit-learn's SVM).
    """

    def __init__(self, calibration, name="calibrated_score"):
        super().__init__(name=name)
        self.names = list(calibration["components"])
        c64 = lambda v: tf.constant(v, tf.float64)
        self.shift = c64(calibration["normalization"]["shift"])
        self.scale = c64(calibration["normalization"]["scale"])
        self.threshold = c64(calibration["threshold"])
        combiner = calibration["combiner"]
        self.kind = combiner["kind"]
        if self.kind == "svm":
            self.support_vectors = c64(combiner["support_vectors"])
            self.dual_coef = c64(combiner["dual_coef"])
            self.intercept = c64(combiner["intercept"])
            self.gamma = c64(combiner["gamma"])
        else:
            self.weights = c64(combiner["weights"])

    def __call__(self, components):
        x = tf.stack([tf.cast(components[n], tf.float64) for n in self.names], axis=1)
        z = (x - self.shift) / self.scale
        if self.kind == "svm":
            sq = (tf.reduce_sum(z * z, 1)[:, None] + tf.reduce_sum(self.support_vectors ** 2, 1)[None, :]
                  - 2.0 * tf.matmul(z, self.support_vectors, transpose_b=True))
            kernel = tf.exp(-self.gamma * tf.maximum(sq, 0.0))
            score = tf.linalg.matvec(kernel, self.dual_coef) + self.intercept
        else:
            score = tf.linalg.matvec(z, self.weights)
        return tf.cast(score, tf.float32), score >= self.threshold
