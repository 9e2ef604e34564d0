r"""A persistent on-disk cache of derived results, in a format that cannot execute code.

Deriving the bounds and flow-map constants of a flow takes SymPy seconds; the result depends only on the
inputs (the schedule, the target, the assumptions taken as given) and on gifsym itself. Results are kept
as JSON files:

* **where**: ``$GIFSYM_CACHE`` if set (``off``, ``0`` or an empty value disable the cache), else
  ``$XDG_CACHE_HOME/gifsym`` (``~/.cache/gifsym`` when XDG_CACHE_HOME is unset);
* **key**: a SHA-256 of the inputs (SymPy objects by ``srepr``, so assumptions count), the kind of
  result, gifsym's version and a fingerprint of the source of the layers that derive it (so an edited
  library never answers from a stale file);
* **format**: JSON; SymPy objects as their ``srepr``, read back by :func:`parse_srepr`, which walks the
  syntax tree and calls only SymPy constructors from a fixed list (never ``eval``, never ``pickle``, no
  attribute access): a tampered file cannot run code, it can only fail to load. A SHA-256 of the payload
  guards against corruption (a truncated or edited file is ignored and recomputed);
* **writes** are atomic (:func:`gifsym.io.write_atomic`), so concurrent runs never read half a file.

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
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import sympy
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.printing.repr import ReprPrinter

from gifsym.budget import exceeded_count
from gifsym.errors import GifsymError
from gifsym.io import write_atomic
from gifsym.version import __version__

#: Bump when the file layout changes.
FORMAT = 1

#: The SymPy constructors a stored expression may use (``srepr`` names them this way).
_CONSTRUCTORS: dict[str, Callable[..., Any]] = {
    name: getattr(sympy, name)
    for name in (
        "Symbol", "Dummy", "Integer", "Rational", "Float", "Add", "Mul", "Pow", "exp", "log", "sqrt", "sin",
        "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan", "erf", "Abs", "sign", "Piecewise",
        "ExprCondPair", "Min", "Max", "Interval", "Union", "Intersection", "Complement", "FiniteSet",
        "ConditionSet", "ImageSet", "Lambda", "Tuple", "StrictLessThan", "LessThan", "StrictGreaterThan",
        "GreaterThan", "Equality", "Unequality", "And", "Or", "Not", "Integral", "Function",
        "ImmutableDenseMatrix", "MatrixSymbol", "Identity", "MatAdd", "MatMul", "Limit", "Derivative",
        "Subs", "Heaviside", "floor", "ceiling", "re", "im", "AccumBounds",
    )
    if hasattr(sympy, name)
}
_CONSTRUCTORS["ExprCondPair"] = ExprCondPair
# Min/Max are rebuilt as stored: gifsym keeps some unevaluated (θ_t = max(u_t, −ℓ_t) as derived), and
# evaluating them again could change their form.
_CONSTRUCTORS["Min"] = lambda *args: sympy.Min(*args, evaluate=False)
_CONSTRUCTORS["Max"] = lambda *args: sympy.Max(*args, evaluate=False)
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

    Raises:
        StoreError: anything else in the text (a name, an attribute, an operator, a lambda, …).
    """
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise StoreError(f"not an srepr: {e}") from None
    try:
        return _build(tree.body)
    except RecursionError:
        raise StoreError("srepr nested too deeply") from None
    except StoreError:
        raise
    except Exception as e:  # noqa: BLE001 — a constructor refused its arguments: the file is not ours
        raise StoreError(f"srepr does not build: {type(e).__name__}: {e}") from None


def _build(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)) or (
            isinstance(node, ast.Constant) and node.value is None):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):  # -1, -oo
        v = _build(node.operand)
        if isinstance(v, (int, float, sympy.Basic)) and not isinstance(v, bool):
            return -v
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_build(e) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise StoreError(f"not a SymPy constant: {node.id!r}")
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            if node.func.id not in _CONSTRUCTORS:
                raise StoreError(f"not a SymPy constructor: {node.func.id!r}")
            fn = _CONSTRUCTORS[node.func.id]
        elif isinstance(node.func, ast.Call):  # Function('epsilon')(Symbol('t'))
            fn = _build(node.func)
            if not isinstance(fn, sympy.FunctionClass):
                raise StoreError("only an undefined function may be applied")
        else:
            raise StoreError(f"not a SymPy constructor: {type(node.func).__name__}(...)")
        args = [_build(a) for a in node.args]
        kwargs = {}
        for k in node.keywords:
            if k.arg is None:
                raise StoreError("no ** in a stored expression")
            kwargs[k.arg] = _build(k.value)
        return fn(*args, **kwargs)
    raise StoreError(f"not allowed in a stored expression: {type(node).__name__}")


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
        return {"sympy": srepr(obj)}
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
        return _parse_cached(data["sympy"])
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


@lru_cache(maxsize=8192)
def _parse_cached(text: str) -> Any:
    # The same sub-results (pieces, intervals) recur across files: parse each text once per process.
    return parse_srepr(text)


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


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the source of gifsym's symbolic and theory layers with their subpackages, of the budgets
    and of the version: a change to the library invalidates every stored result."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode())
    # Every module a derivation runs: the two layers with their subpackages (the prover, the converters)
    # and the budgets, which decide how far the prover gets.
    files = [root / "budget.py", *(p for sub in ("symbolic", "theory") for p in (root / sub).rglob("*.py"))]
    for p in sorted(files):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def key(kind: str, *inputs: Any) -> str:
    """The cache key of a result of ``kind`` for ``inputs``."""
    h = hashlib.sha256(f"{FORMAT}|{kind}|{code_fingerprint()}".encode())
    for x in inputs:
        h.update(b"|")
        h.update(fingerprint(x).encode())
    return h.hexdigest()


def load(kind: str, k: str, types: Mapping[str, type], inputs: Mapping[str, Any]) -> Any | None:
    """The stored result, or None (no cache, no file, or a file that fails its checks: then ignored)."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / kind / f"{k}.json"
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        payload = doc["payload"]
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        if doc.get("format") != FORMAT or doc.get("key") != k or \
                doc.get("sha256") != hashlib.sha256(text.encode()).hexdigest():
            return None
        return decode(payload, types, inputs)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, StoreError, RecursionError):
        return None  # unreadable or corrupt: recomputed, and overwritten by the next save


def save(kind: str, k: str, result: Any, inputs: Mapping[str, Any]) -> bool:
    """Store a result (atomically); False when the cache is off or the result cannot be stored."""
    folder = cache_dir()
    if folder is None:
        return False
    try:
        payload = encode(result, inputs)
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        doc = {"format": FORMAT, "gifsym": __version__, "key": k,
               "sha256": hashlib.sha256(text.encode()).hexdigest(), "payload": payload}
        (folder / kind).mkdir(parents=True, exist_ok=True)
        # No fsync: an entry torn by a crash fails its checksum on load and is derived again.
        write_atomic(folder / kind / f"{k}.json", json.dumps(doc, separators=(",", ":")), durable=False)
        return True
    except (OSError, StoreError, GifsymError, TypeError, ValueError, RecursionError):
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


__all__ = ["FORMAT", "StoreError", "cache_dir", "cached", "code_fingerprint", "decode", "encode", "fingerprint",
           "key", "load", "parse_srepr", "save", "srepr"]
