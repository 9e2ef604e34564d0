r"""A persistent on-disk cache of derived results, in a format that cannot execute code.

Deriving the bounds and flow-map constants of a flow takes SymPy seconds; the result depends only on the
inputs (the schedule, the target, the assumptions taken as given) and on gifsym itself. Results are kept
as JSON files:

* **where**: ``$GIFSYM_CACHE`` if set (``off``, ``0`` or an empty value disable the cache), else
  ``$XDG_CACHE_HOME/gifsym`` (``~/.cache/gifsym`` when XDG_CACHE_HOME is unset). gifsym creates the
  folder, its subfolders and its entries readable by their owner only (0700, 0600);
* **trust**: as ssh and pip do, a folder or entry owned by another user or writable by the group or by
  others is not used (one ``Warning:`` line on stderr per process says which and how to fix it); nor is a
  cache path that is not a folder (``GIFSYM_CACHE`` naming a file);
* **key**: a SHA-256 of the inputs (SymPy objects by ``srepr``, so assumptions count), the kind of
  result, gifsym's version, the versions of SymPy and python-flint and a fingerprint of the source of the
  layers that derive it (so an edited or upgraded library never answers from a stale file);
* **format**: JSON; SymPy objects as their ``srepr``, read back by :func:`parse_srepr`, which walks the
  syntax tree and calls only SymPy constructors from a fixed list (never ``eval``, never ``pickle``, no
  attribute access): a tampered file cannot run code, it can only fail to load;
* **authentication**: each entry carries an HMAC-SHA256 of its payload under a random key kept in the
  cache folder (``secret``, 0600, made on first use). A plain checksum could be recomputed by whoever
  edits a file; the HMAC cannot without the key, so an entry this installation did not write (copied
  from elsewhere, edited, truncated) is ignored and recomputed;
* **reads** cannot hang or exhaust memory: only a regular file is read (opened without following a
  symlink and without blocking, so a FIFO or a device is refused), at most :data:`MAX_ENTRY_BYTES` of it;
  the text is rebuilt under the limits of caller input (no nesting deeper than :data:`MAX_DEPTH`, no
  power of a number beyond :data:`MAX_POWER_BITS` bits, no Float precision beyond
  :data:`MAX_FLOAT_PRECISION`, all checked before SymPy builds anything) and a CPU-time budget;
* **validation**: what is read back is also checked, as a second line behind the HMAC: no ``nan``, ``zoo`` or undefined function, and each SymPy value has
  the signature recorded when it was stored (its class, its free symbols with their assumptions, and
  whether it is a finite real number). An entry failing any check is ignored, derived again and replaced;
* **writes** are atomic (:func:`gifsym.io.atomic_path`), so concurrent runs never read half a file.

The checks guard against accidents, copied files and other users; they cannot guard against the owner of
the cache (who can read the key and run code as themselves anyway), which is why a cache writable by anyone
else is refused.

Example:
    >>> import sympy
    >>> x = sympy.Symbol("x", positive=True)
    >>> parse_srepr(sympy.srepr(sympy.Piecewise((x**2, x < 1), (sympy.oo, True)))) == sympy.Piecewise(
    ...     (x**2, x < 1), (sympy.oo, True))
    True
    >>> parse_srepr("__import__('os').system('true')")
    Traceback (most recent call last):
    ...
    gifsym.store.StoreError: not a SymPy constructor: Attribute(...)
    >>> parse_srepr("Pow(Integer(3), Integer(1000000000))")
    Traceback (most recent call last):
    ...
    gifsym.store.StoreError: a power of a number too large to build (about 1584962500 bits)
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import hashlib
import hmac
import json
import math
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Mapping
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import sympy
from sympy.core.function import AppliedUndef
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.printing.repr import ReprPrinter

from gifsym.budget import BudgetExceeded, exceeded_count, work_budget
from gifsym.errors import GifsymError
from gifsym.io import atomic_path
from gifsym.version import __version__

#: Bump when the file layout changes (2: an HMAC instead of a checksum, the signatures of SymPy values, the
#: kind in the file).
FORMAT = 2

#: The largest entry read back, in bytes: over the inventory's flows (about 250 entries) the largest is 32 KB.
MAX_ENTRY_BYTES = 4 * 2**20
#: The deepest call nesting of a stored expression (the inventory's deepest is 17).
MAX_DEPTH = 100
#: The largest power of a number a stored expression may build, in bits (about 20,000 digits): rebuilding
#: ``Pow(Integer(3), Integer(10**9))`` would otherwise compute 3^(10^9) in C, where nothing can interrupt it.
MAX_POWER_BITS = 2**16
#: The largest precision of a stored Float, in bits (derivations use at most a few hundred).
MAX_FLOAT_PRECISION = 2**12
#: CPU seconds to rebuild one entry, the budget of caller input (``gifsym.symbolic.expr.BUILD_SECONDS``).
DECODE_SECONDS = 5.0

#: The SymPy constructors a stored expression may use (``srepr`` names them this way). No ``Function``:
#: no derived result holds an undefined function.
_CONSTRUCTORS: dict[str, Callable[..., Any]] = {
    name: getattr(sympy, name)
    for name in (
        "Symbol", "Dummy", "Integer", "Rational", "Float", "Add", "Mul", "Pow", "exp", "log", "sqrt", "sin",
        "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan", "erf", "Abs", "sign", "Piecewise",
        "ExprCondPair", "Min", "Max", "Interval", "Union", "Intersection", "Complement", "FiniteSet",
        "ConditionSet", "ImageSet", "Lambda", "Tuple", "StrictLessThan", "LessThan", "StrictGreaterThan",
        "GreaterThan", "Equality", "Unequality", "And", "Or", "Not", "Integral",
        "ImmutableDenseMatrix", "MatrixSymbol", "Identity", "MatAdd", "MatMul", "Limit", "Derivative",
        "Subs", "Heaviside", "floor", "ceiling", "re", "im", "AccumBounds",
    )
    if hasattr(sympy, name)
}
_CONSTRUCTORS["ExprCondPair"] = ExprCondPair
# Min/Max are rebuilt as stored: gifsym keeps some unevaluated (θ_t = max(u_t, −ℓ_t) as derived), and
# evaluating them again could change their form.
# A function of a stored argument is rebuilt as stored, without SymPy's evaluation: srepr writes a function
# as ``name(args)`` of an already canonical expression, so evaluation could only return it unchanged, and its
# checks (``exp``'s ``arg.is_zero`` on a constant with nested surds) took 0.5 s of a warm ``bounds`` run.
for _name in ("exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan", "erf", "Abs",
              "sign"):
    _CONSTRUCTORS[_name] = partial(getattr(sympy, _name), evaluate=False)
del _name
_CONSTRUCTORS["Min"] = lambda *args: sympy.Min(*args, evaluate=False)
_CONSTRUCTORS["Max"] = lambda *args: sympy.Max(*args, evaluate=False)


def _mul(*args: Any) -> Any:
    """``Mul(*args)`` as SymPy evaluates it. A rational times one exponential of a sum or product (``-exp(A)``,
    the common shape of a stored flow-map constant) is built directly in its canonical order (the number
    first): SymPy's evaluation would ask whether the exponent A is zero (an assumption query that, for
    a polynomial A in T with surds, looks for its real roots and takes 0.4 s for ``ddpm-scaled``) and could
    only drop a factor exp(0) that is not written as 0; the product built is equal in value either way."""
    if len(args) == 2 and isinstance(args[0], sympy.Rational) and args[0] not in (0, 1) and \
            isinstance(args[1], sympy.exp) and isinstance(args[1].args[0], (sympy.Add, sympy.Mul)):
        return sympy.Mul._from_args(args)
    return sympy.Mul(*args)


_CONSTRUCTORS["Mul"] = _mul
_CONSTRUCTORS["exp"] = lambda arg: _exp(arg)


def _exp(arg: Any) -> Any:
    """``exp(arg)`` as stored: for a sum or product without log, I or infinities, SymPy's evaluation could
    only turn a zero not written as 0 into 1 (asking, slowly, whether arg is zero); equal in value."""
    if isinstance(arg, (sympy.Add, sympy.Mul)) and not arg.has(sympy.log, sympy.I, sympy.oo, sympy.zoo, sympy.nan):
        return sympy.exp(arg, evaluate=False)
    return sympy.exp(arg)
_CONSTANTS: dict[str, Any] = {
    "oo": sympy.oo, "zoo": sympy.zoo, "nan": sympy.nan, "pi": sympy.pi, "E": sympy.E, "I": sympy.I,
    "true": sympy.true, "false": sympy.false, "EmptySet": sympy.S.EmptySet, "Reals": sympy.S.Reals,
    "Naturals": sympy.S.Naturals, "Integers": sympy.S.Integers, "Complexes": sympy.S.Complexes,
    "UniversalSet": sympy.S.UniversalSet, "EulerGamma": sympy.EulerGamma,
}


class StoreError(GifsymError):
    """A stored file could not be read back (it is then ignored and the result recomputed)."""


def parse_srepr(text: str) -> Any:
    """A SymPy object from its ``srepr``, built by calling only the constructors listed above.

    The text is refused before anything is built when it nests deeper than :data:`MAX_DEPTH` or asks for a
    power of a number beyond :data:`MAX_POWER_BITS` bits or a Float beyond :data:`MAX_FLOAT_PRECISION`
    bits (work in C that no budget can interrupt); the building itself runs under a budget of
    :data:`DECODE_SECONDS` CPU seconds.

    Raises:
        StoreError: anything else in the text (a name, an attribute, an operator, a lambda, …), or a text
            beyond those limits.
    """
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise StoreError(f"not an srepr: {e}") from None
    try:
        with work_budget(DECODE_SECONDS, strict=False):
            return _build(tree.body, 0)
    except BudgetExceeded:
        raise StoreError(f"srepr too costly to rebuild (more than {DECODE_SECONDS:g} s)") from None
    except RecursionError:
        raise StoreError("srepr nested too deeply") from None
    except StoreError:
        raise
    except Exception as e:  # noqa: BLE001 — a constructor refused its arguments: the file is not ours
        raise StoreError(f"srepr does not build: {type(e).__name__}: {e}") from None


def _build(node: ast.AST, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise StoreError(f"srepr nested deeper than {MAX_DEPTH}")
    depth += 1
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)) or (
            isinstance(node, ast.Constant) and node.value is None):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):  # -1, -oo
        v = _build(node.operand, depth)
        if isinstance(v, (int, float, sympy.Basic)) and not isinstance(v, bool):
            return -v
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_build(e, depth) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise StoreError(f"not a SymPy constant: {node.id!r}")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise StoreError(f"not a SymPy constructor: {type(node.func).__name__}(...)")
        name = node.func.id
        if name not in _CONSTRUCTORS:
            raise StoreError(f"not a SymPy constructor: {name!r}")
        args = [_build(a, depth) for a in node.args]
        kwargs = {}
        for k in node.keywords:
            if k.arg is None:
                raise StoreError("no ** in a stored expression")
            kwargs[k.arg] = _build(k.value, depth)
        _check_size(name, args, kwargs)
        return _CONSTRUCTORS[name](*args, **kwargs)
    raise StoreError(f"not allowed in a stored expression: {type(node).__name__}")


def _check_size(name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Refuse, before SymPy builds it, a power of numbers or a Float that would take minutes or gigabytes."""
    if name == "Pow" and len(args) == 2:
        base, exponent = args
        if isinstance(base, (int, sympy.Rational)) and isinstance(exponent, (int, sympy.Rational)):
            base, exponent = sympy.Rational(base), sympy.Rational(exponent)
            largest = max(abs(base.p), base.q)
            if largest > 1:  # 0, ±1 and their powers stay small
                bits = abs(exponent) * math.log2(largest)
                if bits > MAX_POWER_BITS:
                    raise StoreError(f"a power of a number too large to build (about {int(bits)} bits)")
    elif name == "Float":
        precision = kwargs.get("precision", args[1] if len(args) > 1 else None)
        if precision is not None and not (isinstance(precision, int) and 0 < precision <= MAX_FLOAT_PRECISION):
            raise StoreError(f"a Float of precision {precision!r} (at most {MAX_FLOAT_PRECISION} bits)")


# ------------------------------------------------------------------------------------------------------
# Encoding results

#: The ``srepr`` of subexpressions printed before, by identity: ``id -> (object, text)``. The results of one
#: flow share their pieces, intervals and schedule coefficients (SymPy's constructors return the same
#: object for the same arguments), so most of a result's text was printed already.
_REPRS: dict[int, tuple[Any, str]] = {}
#: Characters kept in :data:`_REPRS` before it is emptied.
_REPRS_CHARS = 1 << 24
_reprs_chars = 0


class _KnownRepr(ReprPrinter):
    """SymPy's ``srepr`` printer, answering from :data:`_REPRS` for objects printed before. A hit is the same
    object (the entry holds it, so its id is not reused), which prints the same text by construction."""

    def _print(self, expr: Any, **kwargs: Any) -> str:
        global _reprs_chars
        hit = _REPRS.get(id(expr))
        if hit is not None and hit[0] is expr:
            return hit[1]
        text = super()._print(expr, **kwargs)
        if isinstance(expr, sympy.Basic) and not expr.is_Atom:
            if _reprs_chars > _REPRS_CHARS:
                _REPRS.clear()
                _reprs_chars = 0
            _REPRS[id(expr)] = (expr, text)  # the reference keeps the id from being reused
            _reprs_chars += len(text)
        return text


def srepr(obj: Any) -> str:
    """``sympy.srepr(obj)``, with the texts of subexpressions printed before reused (3–4 times faster over a
    flow's results).

    Example:
        >>> x = sympy.Symbol("x", positive=True)
        >>> srepr(sympy.exp(x) + 1) == sympy.srepr(sympy.exp(x) + 1)
        True
    """
    return _KnownRepr().doprint(obj)


def encode(obj: Any, inputs: Mapping[str, Any]) -> Any:
    """A JSON-able form of a result: SymPy objects by ``srepr``, frozen dataclasses field by field, and
    objects equal to one of the ``inputs`` (``name -> object``: the schedule, the target) by name only."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for name, v in inputs.items():
            if type(v) is type(obj) and v == obj:
                return {"input": name}
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"float": repr(obj)}
    if isinstance(obj, (sympy.Basic, sympy.MatrixBase)):
        return {"sympy": srepr(obj), "sig": signature(obj)}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a NamedTuple
        return {"type": type(obj).__name__, "fields": {f: encode(getattr(obj, f), inputs) for f in obj._fields}}
    if isinstance(obj, tuple):
        return {"tuple": [encode(x, inputs) for x in obj]}
    if isinstance(obj, list):
        return [encode(x, inputs) for x in obj]
    if isinstance(obj, dict):
        return {"dict": [[encode(k, inputs), encode(v, inputs)] for k, v in obj.items()]}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: encode(getattr(obj, f.name), inputs) for f in dataclasses.fields(obj) if f.init}
        return {"type": type(obj).__name__, "fields": fields}
    raise StoreError(f"cannot store a {type(obj).__name__}")


def decode(data: Any, types: Mapping[str, type], inputs: Mapping[str, Any]) -> Any:
    """The inverse of :func:`encode`; dataclasses only of the given ``types``."""
    if data is None or isinstance(data, (bool, str, int, float)):
        return data
    if isinstance(data, list):
        return [decode(x, types, inputs) for x in data]
    if not isinstance(data, dict):
        raise StoreError(f"unexpected {type(data).__name__} in a stored result")
    if "input" in data:
        return inputs[data["input"]]
    if "float" in data:
        return float(data["float"])
    if "sympy" in data:
        return _parse_cached(data["sympy"], json.dumps(data.get("sig")))
    if "tuple" in data:
        return tuple(decode(x, types, inputs) for x in data["tuple"])
    if "dict" in data:
        return {decode(k, types, inputs): decode(v, types, inputs) for k, v in data["dict"]}
    if "type" in data:
        cls = types.get(data["type"])
        if cls is None:
            raise StoreError(f"unknown result type {data['type']!r}")
        return cls(**{k: decode(v, types, inputs) for k, v in data["fields"].items()})
    raise StoreError("unexpected object in a stored result")


def signature(obj: Any) -> list[Any]:
    """What is recorded of a SymPy value when it is stored, and checked when it is read back: its class,
    its free symbols (by ``srepr``, so with their assumptions), and whether it is a finite real number.

    Example:
        >>> t = sympy.Symbol("t", real=True)
        >>> signature(1 / (1 + t))
        ['Pow', ["Symbol('t', real=True)"], False]
        >>> signature(sympy.sqrt(2) / 2)
        ['Mul', [], True]
    """
    free = sorted(sympy.srepr(s) for s in getattr(obj, "free_symbols", ()))
    finite = bool(isinstance(obj, sympy.Expr) and not free and obj.is_extended_real is True and obj.is_finite is True)
    return [type(obj).__name__, free, finite]


def _checked(obj: Any, sig: Any) -> Any:
    """``obj`` if it is a value a derivation can yield and has the recorded signature; else StoreError."""
    if not isinstance(obj, (sympy.Basic, sympy.MatrixBase)):
        raise StoreError(f"a stored value is a {type(obj).__name__}, not a SymPy object")
    if obj.has(sympy.nan, sympy.zoo) or obj.atoms(AppliedUndef):
        raise StoreError("a stored value holds nan, zoo or an undefined function")
    if sig != signature(obj):
        raise StoreError(f"a stored value does not have its recorded signature {sig!r}")
    return obj


@lru_cache(maxsize=8192)
def _parse_cached(text: str, sig: str) -> Any:
    # The same sub-results (pieces, intervals) recur across files: parse and check each text once per process.
    return _checked(parse_srepr(text), json.loads(sig))


# ------------------------------------------------------------------------------------------------------
# The cache on disk


def cache_dir() -> Path | None:
    """The cache folder (see the module docstring), or None when the cache is off."""
    env = os.environ.get("GIFSYM_CACHE")
    if env is not None:
        if env.strip().lower() in ("", "0", "off", "false", "no", "none"):
            return None
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gifsym"


def fingerprint(obj: Any) -> str:
    """A deterministic text of an input (SymPy by ``srepr``), for keys."""
    if isinstance(obj, (sympy.Basic, sympy.MatrixBase)):
        return srepr(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        inner = ",".join(f"{f.name}={fingerprint(getattr(obj, f.name))}" for f in dataclasses.fields(obj))
        return f"{type(obj).__name__}({inner})"
    if isinstance(obj, (tuple, list, frozenset, set)):
        items = [fingerprint(x) for x in obj]
        if isinstance(obj, (frozenset, set)):
            items.sort()
        return "(" + ",".join(items) + ")"
    if isinstance(obj, dict):
        return "{" + ",".join(f"{fingerprint(k)}:{fingerprint(v)}" for k, v in obj.items()) + "}"
    return repr(obj)


def as_stored(obj: Any) -> Any:
    """A SymPy value as a later process reads it back from the store: rebuilt from its ``srepr`` (which
    flattens what a derivation left unevaluated, such as a product nested in a product). A key made from a
    derived value (the compact forms of a bound) then matches the key the reading process makes; anything
    else, or a value that cannot be rebuilt, is returned as it is.

    Example:
        >>> x = sympy.Symbol("x")
        >>> nested = sympy.Mul(2, sympy.Mul(3, x, evaluate=False), evaluate=False)
        >>> srepr(nested) == srepr(as_stored(nested)), as_stored(nested)
        (False, 6*x)
    """
    if not isinstance(obj, (sympy.Basic, sympy.MatrixBase)):
        return obj
    try:
        return parse_srepr(srepr(obj))
    except (StoreError, RecursionError, MemoryError):
        return obj


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the source of gifsym's symbolic and theory layers with their subpackages, of the budgets,
    of the version and of the versions of SymPy and python-flint: a change to the library or an upgrade of
    the libraries it derives with invalidates every stored result."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode())
    h.update(f"|sympy {sympy.__version__}|python-flint {_version('python-flint')}|".encode())
    # Every module a derivation runs: the two layers with their subpackages (the prover, the converters)
    # and the budgets, which decide how far the prover gets.
    files = [root / "budget.py", *(p for sub in ("symbolic", "theory") for p in (root / sub).rglob("*.py"))]
    for p in sorted(files):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _version(distribution: str) -> str:
    # From the installed metadata: importing flint here would load it in processes that never use it.
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "none"


def key(kind: str, *inputs: Any) -> str:
    """The cache key of a result of ``kind`` for ``inputs``."""
    h = hashlib.sha256(f"{FORMAT}|{kind}|{code_fingerprint()}".encode())
    for x in inputs:
        h.update(b"|")
        h.update(fingerprint(x).encode())
    return h.hexdigest()


#: Whether this process has printed its cache warning (one line per process at most).
_warned = [False]


def _warn(message: str) -> None:
    if not _warned[0]:
        _warned[0] = True
        print(f"Warning: {message}", file=sys.stderr)


def _distrust(st: os.stat_result, what: str) -> str | None:
    """Why a folder or entry with this status must not be used (None: it may), as ssh and pip judge it."""
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        return f"{what} is owned by another user (uid {st.st_uid}); the cache is not used"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{what} is writable by other users; the cache is not used (chmod go-w {what})"
    return None


def _folder(kind: str, *, create: bool) -> Path | None:
    """The folder of ``kind``'s entries when the cache is on and trusted (created 0700 if asked), else None."""
    root = cache_dir()
    if root is None:
        return None
    folder = root / kind
    try:
        for path in (root, folder):
            if create and not os.path.lexists(path):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.mkdir(mode=0o700, exist_ok=True)
            st = os.stat(path)  # a symlinked cache folder is fine if its target is trusted
            if not stat.S_ISDIR(st.st_mode):
                _warn(f"the cache path {str(path)!r} is not a folder (GIFSYM_CACHE names the cache folder); "
                      "the cache is not used")
                return None
            reason = _distrust(st, str(path))
            if reason:
                _warn(reason)
                return None
    except FileNotFoundError:
        return None
    except OSError as e:
        _warn(f"cannot use the cache folder {str(root)!r} ({e.strerror or e}); the cache is not used")
        return None
    return folder


#: Bytes of the key that authenticates the entries.
_SECRET_BYTES = 32


@lru_cache(maxsize=4)
def _secret(root: Path) -> bytes | None:
    """The key of the cache in ``root`` (made on first use, 0600), or None when it is missing and cannot be
    made, or is not a private regular file of the right length (then the cache is not used)."""
    path = root / "secret"
    for _ in range(2):
        data = _read_entry(path, private=True)
        if data is not None:
            if len(data) == _SECRET_BYTES:
                return data
            _warn(f"the cache key {str(path)!r} is damaged; the cache is not used (delete the file)")
            return None
        if os.path.lexists(path):
            return None  # not a trusted regular file: _read_entry warned
        try:  # written whole under a temporary name (mkstemp: 0600), then linked: never half a key to read
            fd, tmp = tempfile.mkstemp(prefix=".secret.", dir=root)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(os.urandom(_SECRET_BYTES))
                with contextlib.suppress(FileExistsError):  # another process made it first: read theirs
                    os.link(tmp, path)
            finally:
                os.unlink(tmp)
        except OSError:
            return None
    return None


def _mac(root: Path, text: str) -> str | None:
    secret = _secret(root)
    return None if secret is None else hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def _read_entry(path: Path, *, private: bool = False) -> bytes | None:
    """The bytes of an entry that is a trusted regular file of at most :data:`MAX_ENTRY_BYTES`, else None.

    Opened without following a symlink (``O_NOFOLLOW``) and without blocking (``O_NONBLOCK``: a FIFO would
    wait for a writer forever), then checked on the open descriptor (``fstat``), so nothing can be swapped
    in between the check and the read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError:  # ELOOP: a symlink
        _warn(f"the cache entry {str(path)!r} is not a regular file; it is ignored and replaced")
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            _warn(f"the cache entry {str(path)!r} is not a regular file; it is ignored and replaced")
            return None
        reason = _distrust(st, str(path))
        if not reason and private and st.st_mode & (stat.S_IRGRP | stat.S_IROTH):
            reason = f"{path} is readable by other users; the cache is not used (chmod 600 {path})"
        if reason:
            _warn(reason)
            return None
        if st.st_size > MAX_ENTRY_BYTES:
            return None
        chunks, size = [], 0
        while size <= MAX_ENTRY_BYTES:  # the size may have changed since fstat: read at most the cap
            chunk = os.read(fd, MAX_ENTRY_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return None if size > MAX_ENTRY_BYTES else b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def load(kind: str, k: str, types: Mapping[str, type], inputs: Mapping[str, Any]) -> Any | None:
    """The stored result, or None (no cache, no file, or a file that fails its checks: then ignored)."""
    folder = _folder(kind, create=False)
    if folder is None:
        return None
    data = _read_entry(folder / f"{k}.json")
    if data is None:
        return None
    try:
        doc = json.loads(data.decode("utf-8"))
        payload = doc["payload"]
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        mac = _mac(folder.parent, text)
        if mac is None or doc.get("format") != FORMAT or doc.get("kind") != kind or doc.get("key") != k or \
                not isinstance(doc.get("hmac"), str) or not hmac.compare_digest(doc["hmac"], mac):
            return None
        return decode(payload, types, inputs)
    except (ValueError, KeyError, TypeError, AttributeError, StoreError, RecursionError, MemoryError):
        return None  # corrupt, forged or too costly: recomputed, and replaced by the next save


def save(kind: str, k: str, result: Any, inputs: Mapping[str, Any]) -> bool:
    """Store a result (atomically, readable by its owner only); False when the cache is off or untrusted or
    the result cannot be stored."""
    folder = _folder(kind, create=True)
    if folder is None:
        return False
    try:
        payload = encode(result, inputs)
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    except (StoreError, TypeError, ValueError, RecursionError):
        return False
    mac = _mac(folder.parent, text)
    if mac is None:
        return False
    doc = {"format": FORMAT, "gifsym": __version__, "kind": kind, "key": k, "hmac": mac, "payload": payload}
    try:
        # Replaces whatever is there (a symlink or a FIFO included: rename swaps the name, not its target).
        with atomic_path(folder / f"{k}.json") as tmp:
            os.chmod(tmp, 0o600)
            # No fsync: an entry torn by a crash fails its checksum on load and is derived again.
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(json.dumps(doc, separators=(",", ":")))
        return True
    except (OSError, GifsymError):
        return False


def cached(kind: str, inputs: Mapping[str, Any], types: Mapping[str, type], compute: Callable[[], Any]) -> Any:
    """``compute()``, answered from the disk cache when a valid entry exists for these inputs.

    Args:
        kind: the kind of result (a folder of the cache).
        inputs: ``name -> object`` the result depends on; objects that appear inside the result (the
            schedule, the target) are stored by name and put back on load.
        types: the dataclasses the result may contain, by class name.
        compute: derives the result.
    """
    k = key(kind, *(f"{n}={fingerprint(v)}" for n, v in sorted(inputs.items())))
    found = load(kind, k, types, inputs)
    if found is not None:
        return found
    before = exceeded_count()
    result = compute()
    if exceeded_count() == before:  # a result cut short by a budget is not kept: a later run may do better
        save(kind, k, result, inputs)
    return result


__all__ = ["DECODE_SECONDS", "FORMAT", "MAX_DEPTH", "MAX_ENTRY_BYTES", "MAX_FLOAT_PRECISION", "MAX_POWER_BITS",
           "StoreError", "as_stored", "cache_dir", "cached", "code_fingerprint", "decode", "encode", "fingerprint",
           "key", "load", "parse_srepr", "save", "signature", "srepr"]
