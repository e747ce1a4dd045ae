"""Real or GAN-made: the face cropper, the judge, detector training, metrics."""
