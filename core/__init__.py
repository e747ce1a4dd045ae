"""Face GAN Lab core: models, registry, face cropping, detection and sampling.

Nothing in this package imports streamlit or argparse; the app (`app.py`, `pages/`, `ui/`)
and the command lines (`train/`) are thin layers over it.

    core/io/         image files, atomic store, the Hub, model cards
    core/models/     the registry, training records, the architectures (DCGAN, detectors, probe)
    core/gan/        the GAN trainer, sampling, latent maths, quality figures, the toy GAN
    core/detection/  the face cropper, the judge (image to verdicts), detector training, metrics
    core/data/       CelebA caches, the wild sources, predicted age and gender
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout: weights/, data/, runs/ hang off it
