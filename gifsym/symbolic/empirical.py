r"""Data as a target: the empirical law of N points and its Gaussian smoothing (interface.md, "Data as a
target").

For points ``y_1, …, y_N`` in ``R^d`` the empirical law is ``ν_N = (1/N) Σ_i δ_{y_i}`` and its smoothing
``ν_N * N(0, σ² I) = (1/N) Σ_i N(y_i, σ² I)`` is *exactly* an isotropic Gaussian mixture with equal weights
and common σ, so everything math.md §4 says about mixtures holds with ``λ = σ²`` (and, for σ = 0, with
``λ = 0``: a component ``N(y, 0)`` is the Dirac mass ``δ_y``; the component formulas of
:func:`gifsym.symbolic.flow.component_coefficients` are polynomial in λ over ``s = a² + λ b²`` and stay
valid at λ = 0 while ``a_t > 0``). The posterior of ``X_1`` given ``X_t = x`` is the softmax

.. math::

    r_i(t, x) ∝ \exp\Big(-\frac{|x - b_t y_i|^2}{2 s_t}\Big), \quad s_t = a_t^2 + σ^2 b_t^2,

over the data, and ``v = c_x x + c_m Σ_i r_i y_i``, ``∇v = c_x I + (c_m b_t / s_t) Cov_r(y)``; for σ = 0 the
last coefficient is the key identity's ``b(aḃ − ȧb)/a³`` and ``Cov_r(y)`` is the posterior covariance C.

Classes derived from the data (:func:`implied_classes`), all translation-invariant (see
:mod:`gifsym.symbolic.ball`): the empirical law is supported in the smallest enclosing ball ``B(c, R)``
(T-ball with that R); the smoothed law is the Gaussian convolution ``N(0, σ² I) * ν_N`` with ν_N in that
ball (T-conv with ``(σ, R)``) and, as a mixture with common σ, β-semi-log-convex with ``β = 1/σ²``.

Files (:func:`read_points`): ``.npy`` (one array), ``.npz`` (one array, or the array ``points``), ``.csv``
(comma-separated numbers, one point per row, an optional header line). Read with
``numpy.load(allow_pickle=False)``; the shape in the header is checked against :data:`MAX_BYTES` before
anything is allocated. A bad file is a :class:`~gifsym.errors.TargetError` naming the file and what is
wrong.

Example:
    >>> import numpy as np
    >>> law = empirical_law(np.array([[0.0, 0.0], [2.0, 0.0]]))
    >>> law.N, law.dim, law.ball.centre.tolist(), law.ball.radius
    (2, 2, [1.0, 0.0], 1.0)
    >>> [(cid, dict(p)) for cid, p in implied_classes(law)]
    [('T-ball', {'R': 1})]
"""

from __future__ import annotations

import hashlib
import os
import warnings
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING

import sympy

from gifsym.errors import TargetError
from gifsym.io import check_regular_file
from gifsym.symbolic.ball import Ball, enclosing_ball, pad_slack, round_up

if TYPE_CHECKING:  # imported where used: a run answered from the cache never needs numpy
    import numpy as np

#: Largest data array accepted, in bytes of float64 (10⁶ points in 1024 dimensions is 7.6 GiB).
MAX_BYTES = 8 * 2**30
#: Largest accepted inflation of a compressed .npz member (uncompressed over compressed size) above
#: :data:`NPZ_RATIO_FLOOR`: floats compress a few times at most; more is a decompression bomb.
MAX_NPZ_RATIO = 50
NPZ_RATIO_FLOOR = 16 * 2**20
#: Largest CSV file read (text is parsed into memory; binary formats are the way to pass big data).
MAX_CSV_BYTES = 512 * 2**20
#: The largest coordinate accepted: the field and the bounds use squared distances and radii (|x − b y|²/a²,
#: R²), which stay finite in float64 (max ≈ 1.8e308) only for coordinates well below 1e154.
MAX_COORDINATE = 1e150
#: The exact symbolic objects (``Flow.velocity()`` etc.) are built for at most this many points and
#: N·d coordinates; above, use the numerical field (exact to round-off) or the indexed closed form.
SYMBOLIC_MAX_POINTS = 64
SYMBOLIC_MAX_COORDS = 512
#: File extensions read.
FORMATS = (".npy", ".npz", ".csv")


@dataclass(frozen=True)
class Atom:
    """One component ``weight · N(mean, σ² I)`` of the law (σ = 0: the Dirac mass at ``mean``), with the
    attributes of :class:`gifsym.symbolic.target.Component` that the symbolic flow reads."""

    weight: sympy.Expr
    mean: tuple[sympy.Expr, ...]
    sigma: sympy.Expr

    @property
    def dim(self) -> int:
        return len(self.mean)

    cov = None


@dataclass(frozen=True, eq=False)
class EmpiricalLaw:
    """The empirical law of the rows of ``points``, smoothed by ``N(0, σ² I)`` when σ > 0.

    Equality and hashing go by the SHA-256 of the data and σ, so flows over the same data share caches.

    Attributes:
        points: (N, d) float64, read-only.
        sigma: σ ≥ 0 (exact SymPy number; 0 for the empirical law itself).
        source: the file it was read from, or ``"array"``.
        digest: SHA-256 of the shape and bytes of ``points``.
    """

    points: np.ndarray
    sigma: sympy.Expr
    source: str
    digest: str

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EmpiricalLaw) and (self.digest, self.sigma) == (other.digest, other.sigma)

    def __hash__(self) -> int:
        return hash((self.digest, self.sigma))

    def __repr__(self) -> str:
        return f"EmpiricalLaw(N={self.N}, d={self.dim}, sigma={self.sigma}, source={self.source!r})"

    @property
    def N(self) -> int:
        return int(self.points.shape[0])

    @property
    def dim(self) -> int:
        return int(self.points.shape[1])

    @property
    def K(self) -> int:
        """Number of mixture components (one per point)."""
        return self.N

    @property
    def isotropic(self) -> bool:
        return True

    @property
    def smoothed(self) -> bool:
        return bool(self.sigma != 0)

    @cached_property
    def ball(self) -> Ball:
        """The smallest enclosing ball of the points (certified, :func:`gifsym.symbolic.ball.enclosing_ball`)."""
        return enclosing_ball(self.points)

    @cached_property
    def radius(self) -> sympy.Expr:
        """The class radius R: the certified enclosing radius rounded up to 6 significant digits (exact for ≤ 2 points
        and in 1-D)."""
        P = self.points
        if self.N == 1:
            return sympy.Integer(0)
        if self.dim == 1 or self.N == 2:
            lo, hi = (P.min(0), P.max(0)) if self.dim == 1 else (P[0], P[1])
            diff = [sympy.Rational(repr(float(u))) - sympy.Rational(repr(float(v))) for u, v in zip(hi, lo)]
            return sympy.sqrt(sum(x**2 for x in diff)) / 2
        return round_up(self.ball.radius, slack=pad_slack(self.dim))

    @cached_property
    def exact_second_moment(self) -> sympy.Expr:
        r"""``E|X|² = (1/N) Σ|y_i|² + d σ²`` as an exact number where that is cheap (up to 10⁵ coordinates:
        the floats are exact binary rationals), otherwise a rigorous upper bound: the float64 sum of the
        squares, whose rounding error is at most ``γ_n Σ y²`` with ``γ_n = n u / (1 − n u)``,
        ``u = 2^{−53}`` (Higham, Accuracy and Stability, §4.2), raised by that much. Source stability needs
        an upper bound, so either is valid there."""
        import numpy as np
        P = self.points
        n = P.size
        if n <= 100_000:
            total = sum((Fraction(float(v)) ** 2 for v in P.ravel()), Fraction(0))
            squares = sympy.Rational(total.numerator, total.denominator)
        else:
            gamma = Fraction(n + 1, 2**53 - (n + 1))  # squaring and summing: n + 1 roundings at most
            squares = sympy.Rational(Fraction(float(np.einsum("ij,ij->", P, P))) * (1 + gamma) ** 2)
        return squares / self.N + self.dim * self.sigma**2

    @cached_property
    def second_moment(self) -> float:
        """``E|X|² = (1/N) Σ|y_i|² + d σ²``."""
        import numpy as np
        P = self.points
        return float(np.einsum("ij,ij->", P, P) / self.N + self.dim * float(self.sigma) ** 2)

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """``weights`` (N,), ``means`` (N, d) (the points) and ``sigmas`` (N,), as for an isotropic mixture
        (no (N, d, d) covariances: they would not fit at scale)."""
        import numpy as np
        return {"weights": np.full(self.N, 1.0 / self.N), "means": self.points,
                "sigmas": np.full(self.N, float(self.sigma))}

    @cached_property
    def components(self) -> tuple[Atom, ...]:
        """The components as exact SymPy atoms (each coordinate the shortest decimal of its float).

        Raises:
            TargetError: more than :data:`SYMBOLIC_MAX_POINTS` points or :data:`SYMBOLIC_MAX_COORDS`
                coordinates (the exact expression has N·d terms; use the numerical field).
        """
        if self.N > SYMBOLIC_MAX_POINTS or self.N * self.dim > SYMBOLIC_MAX_COORDS:
            raise TargetError(
                f"the exact symbolic field of {self.N} points in {self.dim} dimensions has {self.N * self.dim} "
                f"terms (limit {SYMBOLIC_MAX_POINTS} points, {SYMBOLIC_MAX_COORDS} coordinates); use "
                "gif.field() / gif.jacobian_field() (exact to round-off) or "
                "gifsym.symbolic.empirical_form.closed_form(schedule, sigma=...) (the formula in indexed symbols)")
        w = sympy.Rational(1, self.N)
        return tuple(Atom(w, tuple(sympy.Rational(repr(float(v))) for v in row), self.sigma)
                     for row in self.points)


def _digest(points: np.ndarray) -> str:
    import numpy as np
    h = hashlib.sha256(repr(points.shape).encode())
    h.update(np.ascontiguousarray(points).view(np.uint8).data)
    return h.hexdigest()


def _check_size(n: int, d: int, where: str) -> None:
    if n < 1 or d < 1:
        raise TargetError(f"{where}: no data (shape ({n}, {d})); expected one point per row")
    if n * d * 8 > MAX_BYTES:
        raise TargetError(f"{where}: {n} x {d} points need {n * d * 8 / 2**30:.1f} GiB as float64; the limit is "
                          f"{MAX_BYTES / 2**30:.0f} GiB (gifsym.symbolic.empirical.MAX_BYTES)")


def _check_header(shape: tuple[int, ...], dtype: np.dtype, where: str) -> None:
    if dtype.hasobject or dtype.kind not in "biuf":
        raise TargetError(f"{where}: the array has dtype {dtype}; expected real numbers (int or float)")
    if len(shape) not in (1, 2):
        raise TargetError(f"{where}: the array has shape {shape}; expected (N, d), one point per row, or (N,)")
    n = shape[0]
    d = shape[1] if len(shape) == 2 else 1
    _check_size(n, d, where)


def _npy_header(f, where: str) -> tuple[tuple[int, ...], np.dtype]:
    import numpy as np
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = fmt.read_array_header_2_0(f)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except ValueError as e:
        raise TargetError(f"{where} is not a valid .npy array ({e})") from None
    return tuple(shape), np.dtype(dtype)


def _load_npy(path: str) -> np.ndarray:
    import numpy as np
    with open(path, "rb") as f:
        shape, dtype = _npy_header(f, repr(path))
    _check_header(shape, dtype, repr(path))
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError) as e:
        raise TargetError(f"{path!r} could not be read as a .npy array: {e}") from None


def _load_npz(path: str) -> np.ndarray:
    import numpy as np
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise TargetError(f"{path!r} is not a valid .npz archive ({e})") from None
    with zf:
        names = [n for n in zf.namelist() if n.endswith(".npy")]
        if not names:
            raise TargetError(f"{path!r} holds no array; expected one (N, d) array, or one named 'points'")
        if len(names) > 1:
            if "points.npy" not in names:
                keys = ", ".join(n[:-4] for n in names)
                raise TargetError(f"{path!r} holds several arrays ({keys}); name the data 'points' or keep one")
            names = ["points.npy"]
        where = f"{path!r} (array {names[0][:-4]!r})"
        # The sizes in the zip directory, checked before inflating anything: an 815 KB archive of zeros
        # inflates to 865 MB. Real data compresses a few times at most.
        info = zf.getinfo(names[0])
        if info.file_size > MAX_BYTES or (info.file_size > NPZ_RATIO_FLOOR
                                          and info.file_size > MAX_NPZ_RATIO * max(info.compress_size, 1)):
            raise TargetError(f"{where} inflates from {info.compress_size / 2**20:.1f} MiB to "
                              f"{info.file_size / 2**20:.0f} MiB (more than {MAX_NPZ_RATIO} times, or over "
                              f"{MAX_BYTES / 2**30:.0f} GiB); save the points uncompressed (np.save, .npy)")
        with zf.open(names[0]) as f:
            shape, dtype = _npy_header(f, where)
        _check_header(shape, dtype, where)
    try:
        with np.load(path, allow_pickle=False) as z:
            return z[names[0][:-4]]
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise TargetError(f"{where} could not be read: {e}") from None


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _csv_lines(path: str):
    """``(line number, line)`` of the non-blank lines (streamed: the file may be large)."""
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if line.strip():
                    yield number, line.rstrip("\r\n")
    except UnicodeDecodeError as e:
        raise TargetError(f"{path!r} is not a UTF-8 text file of numbers ({e.reason})") from None


def _csv_start(path: str) -> tuple[int, str]:
    """Lines to skip (blank lines and a header) and the first data line."""
    lines = _csv_lines(path)
    first = next(lines, None)
    if first is not None and not any(_is_number(v) for v in first[1].split(",")):
        first = next(lines, None)  # a header line of column names
    if first is None:
        raise TargetError(f"{path!r} holds no data rows; expected one point per line (numbers separated by commas)")
    return first[0] - 1, first[1]


def _locate_bad_field(path: str, skip: int, width: int) -> None:
    """Raise an error naming the first bad line or field after ``skip`` lines (only on failure: slow)."""
    for number, line in _csv_lines(path):
        if number <= skip:
            continue
        fields = line.split(",")
        if len(fields) != width:
            raise TargetError(f"{path!r}, line {number}: {len(fields)} fields where the first data line has {width}")
        for column, v in enumerate(fields, start=1):
            if not _is_number(v):
                raise TargetError(f"{path!r}, line {number}, column {column}: {v.strip()!r} is not a number")


def _load_csv(path: str) -> np.ndarray:
    """Comma-separated numbers, one point per line. The first non-blank line is a header of column names
    only when *none* of its fields is a number; any other field that is not a number is an error naming its
    line and column (never a silently dropped row)."""

    import numpy as np
    size = os.path.getsize(path)
    if size > MAX_CSV_BYTES:
        raise TargetError(f"{path!r} is {size / 2**20:.0f} MiB of text; the CSV limit is "
                          f"{MAX_CSV_BYTES / 2**20:.0f} MiB: save large data as .npy")
    skip, first = _csv_start(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # NumPy's own warnings would print before our one Error line
            arr = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2, skiprows=skip, encoding="utf-8")
    except (ValueError, UserWarning, UnicodeDecodeError):
        _locate_bad_field(path, skip, len(first.split(",")))
        raise TargetError(f"{path!r} is not a CSV of numbers with one point per row") from None
    _check_header(arr.shape, arr.dtype, repr(path))
    return arr


def read_points(path: str | os.PathLike) -> np.ndarray:
    """Read an (N, d) array of points from ``.npy``, ``.npz`` or ``.csv`` (see the module docstring).

    A 1-D array is N points on the line. Returns a read-only float64 array.

    Raises:
        TargetError: a missing file, an unknown extension, a malformed file, a non-numeric or non-finite
            entry, or data larger than :data:`MAX_BYTES`.

    Example:
        >>> read_points("/nonexistent.npy")
        Traceback (most recent call last):
        ...
        gifsym.errors.TargetError: '/nonexistent.npy' not found; expected data points (.npy, .npz or .csv, one point per row)
    """
    import numpy as np
    path = os.fspath(path)
    check_regular_file(path, expected="data points (.npy, .npz or .csv, one point per row)", error=TargetError)
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        raw = _load_npy(path)
    elif ext == ".npz":
        raw = _load_npz(path)
    elif ext == ".csv":
        raw = _load_csv(path)
    else:
        raise TargetError(f"{path!r}: unknown data format {ext or '(no extension)'!r}; accepted: {', '.join(FORMATS)}")
    # A .npy is memory-mapped (its pages are the file's, reclaimable): copied once into memory, so that the
    # law does not change with the file; .npz and .csv arrays are fresh and nobody else's.
    return as_points(raw, where=repr(path), owned=not isinstance(raw, np.memmap))


def as_points(data: object, *, where: str = "the data", owned: bool = False) -> np.ndarray:
    """Validate data and make them a read-only (N, d) float64 array (a 1-D array is N points on the line).

    The caller's array is copied (it stays theirs to change), unless ``owned``: an array nobody else holds
    (one just read from a file) is used as it is when it is already float64 and C-ordered, which saves a
    second copy of data that may fill much of the memory.
    """
    import numpy as np
    arr = np.asarray(data)
    _check_header(arr.shape, arr.dtype, where)
    out = np.asarray(arr, dtype=np.float64, order="C") if owned else np.array(arr, dtype=np.float64, order="C",
                                                                               copy=True)
    if out.ndim == 1:
        out = out.reshape(-1, 1)
    # Rows a block at a time: a mask of the whole array would be another N·d bytes.
    for lo in range(0, out.shape[0], 65536):
        bad = ~np.isfinite(out[lo:lo + 65536])
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise TargetError(f"{where}: entry ({lo + i}, {j}) is {out[lo + i, j]}; every coordinate must be finite")
        big = np.abs(out[lo:lo + 65536]) > MAX_COORDINATE
        if big.any():
            i, j = np.argwhere(big)[0]
            raise TargetError(f"{where}: entry ({lo + i}, {j}) is {out[lo + i, j]:g}; coordinates beyond "
                              f"±{MAX_COORDINATE:g} overflow float64 in the field and the bounds: rescale the data")
    out.setflags(write=False)
    return out


def empirical_law(data: object, *, sigma: object = 0, source: str = "array") -> EmpiricalLaw:
    """The empirical law of ``data`` (an (N, d) array, or a path), smoothed by ``N(0, σ² I)`` when σ > 0.

    Example:
        >>> empirical_law([[0.0], [1.0]], sigma=0.5).sigma
        1/2
    """
    if isinstance(data, (str, os.PathLike)):
        source = os.fspath(data)
        pts = read_points(data)
    else:
        pts = as_points(data)
    s = _sigma(sigma)
    return EmpiricalLaw(pts, s, source, _digest(pts))


def _sigma(sigma: object) -> sympy.Expr:
    import numpy as np
    from gifsym.symbolic.schedule import _value  # the one parser of numeric parameters

    if sigma is None:
        return sympy.Integer(0)
    if isinstance(sigma, (np.floating, np.integer)):
        sigma = sigma.item()
    try:
        s = _value("sigma", sigma, real_only=True)
    except Exception as e:  # noqa: BLE001 - any parse failure is the user's value
        raise TargetError(f"empirical: sigma={sigma!r} is not a number ({e})") from None
    if s.free_symbols or not s.is_real or not s.is_nonnegative or not s.is_finite:
        raise TargetError(f"empirical: sigma={sigma!r} must be a number >= 0 (0: the data themselves)")
    return s


def implied_classes(law: EmpiricalLaw) -> tuple[tuple[str, tuple[tuple[str, sympy.Expr], ...]], ...]:
    """The classes of math.md §3 the law belongs to, derived from the data (``(class id, params)``).

    * σ = 0: T-ball with R the smallest enclosing radius (the support is the N points).
    * σ > 0: T-slcvx with ``β = 1/σ²`` (a mixture with common σ: ``−∇² log p ≼ σ^{-2} I``) and T-conv with
      ``(σ, R)`` (``ν_N * N(0, σ² I)``, ν_N in a ball of radius R about the centre of the data's ball).

    Example:
        >>> [c for c, _ in implied_classes(empirical_law([[0.0], [4.0]], sigma=1))]
        ['T-slcvx', 'T-conv']
    """
    R = law.radius
    if not law.smoothed:
        return (("T-ball", (("R", R),)),)
    s = law.sigma
    return (("T-slcvx", (("beta", 1 / s**2),)), ("T-conv", (("sigma", s), ("R", R))))


__all__ = [
    "FORMATS",
    "MAX_BYTES",
    "MAX_COORDINATE",
    "MAX_CSV_BYTES",
    "SYMBOLIC_MAX_COORDS",
    "SYMBOLIC_MAX_POINTS",
    "Atom",
    "EmpiricalLaw",
    "as_points",
    "empirical_law",
    "implied_classes",
    "read_points",
]
