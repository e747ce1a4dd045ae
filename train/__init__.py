"""Command lines that users run: data preparation, training, sampling, evaluation, Hub push."""
