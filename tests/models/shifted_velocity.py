"""A velocity model for CLI tests of ``gifsym certify``: the exact field of linear -> N(0, 0.25) plus 0.05."""

import numpy as np

import gifsym

_v = gifsym.GIF(gifsym.schedule("linear"), gifsym.target("gaussian:sigma=0.5")).field()


def shifted(t, x):
    return np.asarray(_v(t, x)) + 0.05
