"""Recipe for small grey images (digits, MNIST): AE-GAN with the settings scripts/tune.py found.

Run: python -m tfgad.main --config=configs/small_images.py
Expected (scripts/benchmark_quality.py --recipes=configs/small_images.py, one digit normal,
mean over the 10 digits and 3 seeds, 2-core CPU): MNIST test AUROC 0.973 ± 0.005 (PCA 0.962 ± 0.004),
digits: configs/tuned/aegan_digits.py 0.996 (PCA 0.995); see BENCHMARKS.md section 2.
The settings are configs/tuned/aegan_mnist_png.py's (21 Optuna trials on validation AUROC of
MNIST classes 2, 5, 8; the test split was never read): a wider network (latent 64, 32 base
filters) than the default, a weak adversarial weight (0.17) and an SVM over all components.
Use --config.data.name=digits for scikit-learn's digits and --config.data.normal_class=k.
"""
from tfgad import config_files

FAMILY = "aegan"
OVERRIDES = {
    'data.dir': '../shared/data/mnist-opencv',
    'data.name': 'mnist_png',
    'detection.combiner': 'svm',
    'detection.components': 'residual,discrimination,feature,latent',
    'model.aegan.w_adv': 0.17240460099242294,
    'model.base_filters': 32,
    'model.latent_dim': 64,
    'model.num_blocks': 2,
    'train.batch_size': 16,
    'train.d_learning_rate': 0.0002743390481215002,
    'train.epochs': 34,
    'train.g_learning_rate': 0.0009533886267453763,
}


def get_config():
    return config_files.override(config_files.load("aegan"), OVERRIDES)
