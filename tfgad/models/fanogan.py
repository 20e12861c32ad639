"""f-AnoGAN (Schlegl et al. 2019): a WGAN-GP, then an izif encoder with G and D frozen.

Stage 1 (train.epochs) trains the WGAN-GP (model.wgan_gp.*); stage 2
(model.fanogan.encoder_epochs, Adam at model.fanogan.encoder_learning_rate) trains E so that
x ~ G(E(x)) in pixels and in discriminator features: loss = mean (x - G(E(x)))^2 +
kappa * mean (f(x) - f(G(E(x))))^2. Both stages run in one fit with the same callbacks; a
callback sets the stage from the epoch, so a resumed run continues in the right stage.

The stage is chosen when the train step is traced, not by a tf.cond in the graph: under a
distribution strategy the all-reduces of a step (gradients, synchronized BatchNorm) must not
sit inside control flow. Setting the stage retraces the step.
"""
import keras
import ml_collections
import tensorflow as tf

from tfgad.models import base, losses
from tfgad.models.wgan_gp import WGANGP


class StageSwitch(keras.callbacks.Callback):
    """Moves f-AnoGAN to the encoder stage after gan_epochs epochs."""

    def __init__(self, gan_epochs):
        super().__init__()
        self.gan_epochs = gan_epochs

    def on_epoch_begin(self, epoch, logs=None):
        if self.model.set_stage(int(epoch >= self.gan_epochs)):
            self.model.make_train_function(force=True)  # fit calls the new one from this epoch


class FAnoGAN(WGANGP):
    CONFIG = "fanogan"
    STAGE_EPOCHS = ("model.fanogan.encoder_epochs",)

    HAS_ENCODER = True

    def __init__(self, generator, discriminator, encoder, prior, n_critic, gp_weight,
                 kappa, encoder_epochs, encoder_learning_rate, seed=0, **kwargs):
        super().__init__(generator, discriminator, prior, n_critic, gp_weight, seed=seed,
                         encoder=encoder, **kwargs)
        self.kappa, self.encoder_epochs = float(kappa), int(encoder_epochs)
        self.encoder_learning_rate = float(encoder_learning_rate)
        # The variable is saved with the weights (a resumed run restores it); traced_stage is
        # the Python copy that train_step reads while it is traced.
        self.stage = keras.Variable(0, dtype="int32", trainable=False, name="stage")
        self.traced_stage = 0
        self.add_trackers("e_loss")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, input_shape: tuple, prior):
        generator, discriminator = base.dcgan_pair(config, input_shape)
        w, f = config.model.wgan_gp, config.model.fanogan
        return cls(generator, discriminator, base.encoder_for(config, input_shape), prior,
                   w.n_critic, w.gp_weight, f.kappa, f.encoder_epochs, f.encoder_learning_rate,
                   seed=config.seed)

    def compile(self, d_optimizer, g_optimizer, e_optimizer=None, **kwargs):
        super().compile(d_optimizer, g_optimizer, **kwargs)
        self.e_optimizer = e_optimizer or keras.optimizers.Adam(self.encoder_learning_rate)
        self.e_optimizer.build(self.encoder.trainable_variables)

    def set_stage(self, stage: int) -> bool:
        """Sets the stage (0: WGAN-GP, 1: encoder); True if it changed. The next fit (or a
        make_train_function(force=True)) traces the step of the new stage."""
        self.stage.assign(stage)
        if self.traced_stage == stage:
            return False
        self.traced_stage = stage
        self.train_function = None
        return True

    def extra_epochs(self) -> int:
        return self.encoder_epochs

    def training_callbacks(self, config: ml_collections.ConfigDict) -> list:
        return [StageSwitch(config.train.epochs)]

    def rejection_scorer(self) -> str:
        """The encoder exists only in stage 2; in stage 1 the critic judges (a latent search of
        the whole split per rejection would cost more than the training)."""
        return "encoder" if int(self.stage.numpy()) > 0 else "discriminator"

    def _encoder_step(self, x, index=None):
        """One izif step; G and D are called in inference mode and not updated."""
        with tf.GradientTape() as tape:
            x_hat = self.generator(self.encoder(x, training=True), training=False)
            _, real_features = self.discriminator(x, training=False)
            _, fake_features = self.discriminator(x_hat, training=False)
            residual = tf.square(x - x_hat)
            feature = tf.square(real_features - fake_features)
            weights = self.real_weights(
                index, losses.per_sample(residual) + self.kappa * losses.per_sample(feature))
            e_loss = (losses.mean(residual, weights)
                      + self.kappa * losses.mean(feature, weights))
        self.minimize(self.e_optimizer, tape, e_loss, self.encoder.trainable_variables)
        return e_loss

    def train_step(self, data):
        real, index = self.unpack(data)
        if self.traced_stage > 0:  # read at trace time: set_stage retraces
            self.update_trackers(e_loss=self._encoder_step(real, index))
        else:
            self.update_trackers(**self._gan_step(real, index))
        return self.tracker_results()
