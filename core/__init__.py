"""Face GAN Lab core: models, registry, face cropping and sampling.

Nothing in this package imports streamlit or argparse; the app (`app.py`, `pages/`, `ui/`)
and the command lines (`train/`) are thin layers over it.
"""
