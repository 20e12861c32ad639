"""The model section (shared by the families), each family's own section, and the prior."""
from tfgad.sections.declare import AT_LEAST_ONE, POSITIVE, Field, Range, Section

FAMILIES = ("gan", "wgan_gp", "bigan", "alad", "fanogan", "ganomaly", "aegan", "vaegan")
OUTPUT_ACTIVATIONS = ("linear", "tanh")
PRIORS = ("normal", "uniform", "truncated_normal")

MODEL = Section("model", "tfgad.models", "the networks and the family that trains them", (
    Field("name", "gan", "the GAN family", FAMILIES),
    Field("latent_dim", 32, "size of the latent code z", range=AT_LEAST_ONE),
    Field("base_filters", 32, "filters of the first DCGAN stage", range=AT_LEAST_ONE),
    Field("num_blocks", 3, "up/down-sampling stages of the DCGAN networks", range=AT_LEAST_ONE),
    Field("kernel_size", 5, "convolution kernel size", range=AT_LEAST_ONE),
    Field("spectral_norm", False, "spectral normalization of the discriminator"),
    Field("output_activation", "linear", "of the generator", OUTPUT_ACTIVATIONS),
    Field("ensemble", 1, "k > 1: k members of the family (seeds seed, seed + 1, ...) trained in "
          "one fit; each member's components normalized on validation, averaged, plus their "
          "spread (tfgad/models/ensemble.py)", range=AT_LEAST_ONE),
    Field("inverse", False, "latent-search families: an inverse network I(x) ~ z fit after "
          "training with G frozen, for search.init=amortized (tfgad/models/inverse.py)"),
    Field("inverse_fit", "data", "data: fit on the training samples (f-AnoGAN's izi loss) and "
          "on (z, G(z)) pairs; samples: on (z, G(z)) pairs alone", ("data", "samples")),
    Field("inverse_steps", 1500, "steps of the inverse's fit", range=AT_LEAST_ONE),
    Field("inverse_learning_rate", 1e-3, "Adam of the inverse's fit", range=POSITIVE),
))

# Settings of one family each, model.<family>.*: a field means one thing, and only its
# family reads it (the model class's from_config).
FAMILY_SECTIONS = {
    "wgan_gp": Section("model.wgan_gp", "tfgad.models.wgan_gp", "WGAN-GP (also f-AnoGAN's "
                       "first stage)", (
        Field("n_critic", 5, "critic steps per generator step", range=AT_LEAST_ONE),
        Field("gp_weight", 10.0, "weight of the gradient penalty", range=Range(0)),
    )),
    "fanogan": Section("model.fanogan", "tfgad.models.fanogan", "f-AnoGAN's encoder stage, "
                       "beside model.wgan_gp, which its first stage reads", (
        Field("kappa", 1.0, "weight of the feature residual in the encoder loss", range=Range(0)),
        Field("encoder_epochs", 10, "encoder stage after train.epochs of WGAN-GP",
              range=AT_LEAST_ONE),
        Field("encoder_learning_rate", 1e-3, "Adam of the encoder stage", range=POSITIVE),
    )),
    "ganomaly": Section("model.ganomaly", "tfgad.models.ganomaly", "GANomaly's loss weights", (
        Field("w_adv", 1.0, "adversarial (feature matching) weight", range=Range(0)),
        Field("w_con", 50.0, "contextual |x - x_hat| weight", range=Range(0)),
        Field("w_enc", 1.0, "encoder ||z - z'||^2 weight", range=Range(0)),
    )),
    "aegan": Section("model.aegan", "tfgad.models.aegan", "BeatGAN-style AE-GAN", (
        Field("w_adv", 1.0, "adversarial (feature matching) weight", range=Range(0)),
    )),
    "vaegan": Section("model.vaegan", "tfgad.models.vaegan", "VAEGAN's loss weights", (
        Field("beta", 1.0, "KL weight (beta-VAEGAN: other than 1)", range=Range(0)),
        Field("beta_warmup_steps", 1000, "linear warm-up of beta", range=Range(0)),
        Field("feature_weight", 1.0, "feature error in the decoder loss", range=Range(0)),
        Field("pixel_weight", 1.0, "pixel L1 reconstruction, encoder and decoder",
              range=Range(0)),
    )),
}

PRIOR = Section("prior", "tfgad.priors", "the latent prior p(z) (a TFP distribution)", (
    Field("name", "normal", "normal | uniform | truncated_normal", PRIORS),
    Field("truncation", 2.0, "truncated_normal: |z_i| <= truncation", range=POSITIVE),
))
