"""Issue 21 item 14: memorisation statistics of samples against a data target, the PCA projection of
``simulate --plot`` in d > 2, and the image grid. Each statistic is checked against brute-force pairwise
distances (NumPy), the independent route to the k-d tree."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from gifsym.cli import app
from gifsym.errors import NumericError
from gifsym.numerics.memorisation import memorisation, pca_projection


def brute(samples, data, delta):
    d_sd = np.linalg.norm(samples[:, None, :] - data[None, :, :], axis=2)
    d_dd = np.linalg.norm(data[:, None, :] - data[None, :, :], axis=2)
    np.fill_diagonal(d_dd, np.inf)
    nn, idx = d_sd.min(axis=1), d_sd.argmin(axis=1)
    return (np.mean(nn <= delta), len(set(idx[nn <= delta])), np.median(nn), np.median(d_dd.min(axis=1)))


def test_memorisation_statistics_equal_brute_force():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(40, 5))
    copies = data[rng.integers(0, 40, size=30)] + 1e-4 * rng.normal(size=(30, 5))  # memorised
    fresh = rng.normal(size=(20, 5))  # new points
    samples = np.concatenate([copies, fresh])
    m = memorisation(samples, data)
    frac, hit, nn, spacing = brute(samples, data, m.delta)
    # exact distances both ways: equal to float64 round-off
    assert m.data_spacing == pytest.approx(spacing, rel=1e-12) and m.delta == pytest.approx(spacing / 10, rel=1e-12)
    assert m.fraction_within == frac == 30 / 50 and m.distinct_hit == hit
    assert m.nn_median == pytest.approx(nn, rel=1e-12) and m.nn_ratio == pytest.approx(nn / spacing, rel=1e-12)
    assert memorisation(data, data).fraction_within == 1.0 and memorisation(data, data).distinct_hit == 40
    assert memorisation(fresh, data, delta=0.0).fraction_within == 0.0
    with pytest.raises(NumericError):
        memorisation(samples, data[:1])
    with pytest.raises(NumericError):
        memorisation(samples[:, :3], data)


def test_pca_sees_what_the_first_two_coordinates_do_not():
    """Like digits' border pixels, coordinates 1 and 2 are constant: the old scatter showed one point. The
    projection spreads the samples, and its explained variances are the covariance's top eigenvalues."""
    rng = np.random.default_rng(1)
    x = np.concatenate([np.zeros((200, 2)), rng.normal(size=(200, 4)) * [3.0, 2.0, 0.5, 0.1]], axis=1)
    (proj,), frac = pca_projection(x)
    ev = np.sort(np.linalg.eigvalsh(np.cov(x, rowvar=False, bias=True)))[::-1]
    assert np.allclose(frac, ev[:2] / ev.sum(), rtol=1e-10)  # SVD against eigvalsh of the covariance
    assert np.allclose(np.var(proj, axis=0), ev[:2], rtol=1e-10)
    assert np.ptp(x[:, :2]) == 0 and np.ptp(proj[:, 0]) > 1


def test_simulate_prints_memorisation_and_plots_images(tmp_path):
    rng = np.random.default_rng(2)
    data = rng.uniform(size=(12, 4))
    f = tmp_path / "d.npy"
    np.save(f, data)
    png, npz = tmp_path / "p.png", tmp_path / "s.npz"
    args = ["simulate", "-s", "linear", "-T", f"empirical:{f}", "-n", "30", "--eps", "0.01", "--plot", str(png),
            "--image-shape", "2x2", "-o", str(npz)]
    out = CliRunner().invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    memo = json.loads(out.output)["memorisation"]
    x = np.load(npz)["x"]
    frac, hit, nn, spacing = brute(x, data, memo["delta"])
    assert (memo["fraction_within"], memo["distinct_hit"]) == (frac, hit)
    assert memo["nn_median"] == pytest.approx(nn, rel=1e-12) and memo["data_spacing"] == pytest.approx(spacing)
    # stopped at t = 0.99 the exact flow is within a_0.99 sqrt(d) = 0.02 of a training point: memorised
    assert memo["nn_ratio"] < 0.2 and png.stat().st_size > 0
    text = CliRunner().invoke(app, args[:-2])
    assert "memorisation:" in text.output and "distinct of 12 hit" in text.output
    bad = CliRunner().invoke(app, [*args[:-4], "--image-shape", "3x3"])
    assert bad.exit_code != 0 and "9 pixels" in str(bad.exception) and not png.with_name("q.png").exists()
