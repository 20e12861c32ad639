"""Classic anomaly detectors to measure the GANs against, fit on the same normal training samples.

Each baseline is fit(train_x, config) -> score(x), higher = more anomalous, on arrays of any
sample shape (flattened where the method needs vectors); config gives the seed and, for the
autoencoder, the GANs' architecture (config.model) and training budget (config.train).
"""
from typing import Callable

import keras
import ml_collections
import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.svm import OneClassSVM

from tfgad.errors import choose
from tfgad.models import networks

# One-class SVM training is quadratic in the samples; above this it fits a random subset.
OCSVM_MAX_SAMPLES = 5000
PCA_VARIANCE = 0.95  # PCA keeps the components that explain this share of the variance


def _flat(x):
    return np.asarray(x, np.float64).reshape(len(x), -1)


def isolation_forest(train_x: np.ndarray, config: ml_collections.ConfigDict) -> object:
    forest = IsolationForest(n_estimators=100, random_state=config.seed).fit(_flat(train_x))
    return lambda x: -forest.score_samples(_flat(x))


def one_class_svm(train_x: np.ndarray, config: ml_collections.ConfigDict) -> object:
    train = _flat(train_x)
    if len(train) > OCSVM_MAX_SAMPLES:
        rng = np.random.default_rng(config.seed)
        train = train[rng.choice(len(train), OCSVM_MAX_SAMPLES, replace=False)]
    svm = OneClassSVM(kernel="rbf", gamma="scale", nu=0.1).fit(train)
    return lambda x: -svm.decision_function(_flat(x))


def pca_reconstruction(train_x: np.ndarray, config: ml_collections.ConfigDict) -> object:
    """Squared error of the projection onto the principal subspace of the normal samples."""
    pca = PCA(n_components=PCA_VARIANCE, svd_solver="full").fit(_flat(train_x))

    def score(x):
        flat = _flat(x)
        return np.mean((flat - pca.inverse_transform(pca.transform(flat))) ** 2, axis=1)
    return score


def conv_autoencoder_model(train_x: np.ndarray, config: ml_collections.ConfigDict) -> keras.Model:
    """The DCGAN encoder and generator of the GAN models as a plain autoencoder (L1 loss, no
    adversary), trained as long: what the adversarial terms add shows in the difference."""
    keras.utils.set_random_seed(config.seed)
    shape, m = train_x.shape[1:], config.model
    encoder = networks.build_encoder(shape, m.latent_dim, m.base_filters, m.num_blocks,
                                     m.kernel_size)
    decoder = networks.build_generator(shape, m.latent_dim, m.base_filters, m.num_blocks,
                                       m.kernel_size, m.output_activation)
    autoencoder = keras.Sequential([encoder, decoder])
    autoencoder.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mae")
    autoencoder.fit(train_x, train_x, epochs=config.train.epochs,
                    batch_size=config.train.batch_size, verbose=0, shuffle=True)
    return autoencoder


def conv_autoencoder(train_x: np.ndarray, config: ml_collections.ConfigDict) -> object:
    """conv_autoencoder_model's mean absolute reconstruction error."""
    autoencoder = conv_autoencoder_model(train_x, config)

    def score(x):
        x_hat = autoencoder.predict(x, batch_size=256, verbose=0)
        return np.mean(np.abs(_flat(x) - _flat(x_hat)), axis=1)
    return score


def _svdd_network(shape: tuple, config: ml_collections.ConfigDict) -> keras.Model:
    """The GANs' encoder convolutions without bias terms or affine normalization, which would
    let Deep SVDD map everything onto its centre (Ruff et al. 2018, section 3.3)."""
    m = config.model
    conv = keras.layers.Conv1D if len(shape) == 2 else keras.layers.Conv2D
    x = keras.Input(shape)
    h = x
    for block in range(m.num_blocks):
        h = conv(m.base_filters * 2 ** block, m.kernel_size, strides=2, padding="same",
                 use_bias=False)(h)
        h = keras.layers.BatchNormalization(center=False, scale=False, epsilon=1e-4)(h)
        h = keras.layers.LeakyReLU(0.1)(h)
    h = keras.layers.Flatten()(h)
    return keras.Model(x, keras.layers.Dense(m.latent_dim, use_bias=False)(h))


SVDD_MIN_CENTRE = 0.1  # centre entries nearer 0 than this are pushed out (as Ruff et al.)


def deep_svdd(train_x: np.ndarray, config: ml_collections.ConfigDict) -> object:
    """One-class Deep SVDD (Ruff et al. 2018, the review's [37]): a network trained to map the
    normal samples close to a fixed centre c (the mean of its initial outputs); the score is
    the squared distance to c. Same architecture size and epochs as the GANs, no pretraining."""
    keras.utils.set_random_seed(config.seed)
    network = _svdd_network(train_x.shape[1:], config)
    centre = network.predict(train_x, batch_size=256, verbose=0).mean(axis=0)
    small = np.abs(centre) < SVDD_MIN_CENTRE
    centre[small] = np.where(centre[small] < 0, -SVDD_MIN_CENTRE, SVDD_MIN_CENTRE)
    network.compile(optimizer=keras.optimizers.Adam(1e-3, weight_decay=1e-6), loss="mse")
    targets = np.broadcast_to(centre, (len(train_x), len(centre)))
    network.fit(train_x, targets, epochs=config.train.epochs, batch_size=config.train.batch_size,
                verbose=0, shuffle=True)

    def score(x):
        return np.sum((network.predict(x, batch_size=256, verbose=0) - centre) ** 2, axis=1)
    return score


BASELINES = {
    "isolation_forest": isolation_forest,
    "one_class_svm": one_class_svm,
    "pca": pca_reconstruction,
    "conv_ae": conv_autoencoder,
    "deep_svdd": deep_svdd,
}


def fit(name: str, train_x: np.ndarray,
        config: ml_collections.ConfigDict) -> Callable[[np.ndarray], np.ndarray]:
    """Fits the named baseline on normal training samples; returns score(x) -> [N]."""
    make: Callable = choose(BASELINES, name, "baseline")
    return make(train_x, config)
