"""core.models.art: the art detector (art-lstm) judges a whole picture as a painting, no face cropper."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.gan.sampling import generate, sample_latents
from core.models import registry
from core.models.art import ART_DETECTOR, ART_LSTM_CONFIG, judge_painting, painting_square


@pytest.fixture(scope="module")
def art():
    return registry.load(ART_DETECTOR, use_hub=False)


def test_its_recipe_is_the_registry_entry_and_it_reads_the_centre_square():
    assert ART_LSTM_CONFIG == registry.get_spec(ART_DETECTOR).config
    wide = np.zeros((100, 300, 3), np.uint8)
    wide[:, 100:200] = 255  # the centre square is white, the sides black
    assert painting_square(wide, 64).shape == (64, 64, 3) and painting_square(wide, 64).min() > 250


def test_fresh_samples_of_the_abstract_gan_look_gan_made_at_any_size(art):
    gan = registry.load("dcgan-64-abstract", use_hub=False)
    samples = generate(gan.model, sample_latents(6, gan.config["nz"], 4242))  # seeds it never trained on
    for sample in samples:
        big = np.asarray(Image.fromarray(sample).resize((300, 300), Image.Resampling.BICUBIC))
        verdict = judge_painting(art, big)
        assert verdict.looks_gan_made and 0.5 <= verdict.p_gan <= 1.0
    assert verdict.held_out["n"] == verdict.held_out["real_n"] + verdict.held_out["fake_n"] > 0


def test_held_out_paintings_look_real(art):
    from safetensors.torch import load_file

    from core.data.abstract import abstract_cache_path

    path = abstract_cache_path("val", 64)
    if not path.exists():
        pytest.skip(f"{path} not made (python -m train.prepare_abstract)")
    crops = load_file(str(path))["images"].permute(0, 2, 3, 1).numpy()[::40]
    called_real = [not judge_painting(art, c).looks_gan_made for c in crops]
    assert sum(called_real) >= 0.9 * len(crops), called_real
