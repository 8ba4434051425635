"""PyTorch reference trainer for infomec: QLAE, QLInfoWGAN-GP and baselines.

The datasets in :mod:`models.data` need only numpy. Everything else needs PyTorch
(``pip install 'infomec[models]'``); this package's ``__init__`` imports nothing heavy so that
``infomec --help`` works without it.
"""
