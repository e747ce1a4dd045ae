"""What a model is: the registry, its records on disk, and the architectures."""
