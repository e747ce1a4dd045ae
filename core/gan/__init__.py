"""The generative side: the GAN trainer, sampling, latent maths, quality, the toy GAN."""
