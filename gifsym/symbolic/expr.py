"""Safe parsing of user-written expressions into SymPy.

Schedule coefficients (``--a "cos(pi*t/2)"``) and parameter values (``beta_min=0.1``) arrive as text.
They are parsed with :mod:`ast` and translated node by node into SymPy objects; nothing is ever passed
to :func:`eval` or to :func:`sympy.sympify` as a string, so no attribute access, import or call of an
arbitrary function can be smuggled in.

The accepted grammar is::

    expr   := number | name | func "(" expr ")" | expr op expr | ("+" | "-") expr | "(" expr ")"
    op     := "+" | "-" | "*" | "/" | "**"
    func   := exp | log | sqrt | sin | cos | tan | sinh | cosh | tanh | erf
    name   := a key of ``names`` (e.g. ``t`` and declared parameters) | pi | E

Decimal literals are converted exactly (``0.1`` is ``1/10``, not the binary double nearest to it), so
results are exact rationals wherever the input is.

Hostile input is refused quickly: the text length, the nesting depth, the size of exact numbers and
the magnitude of numeric exponents are bounded (``9**9**9`` is an error, not a hang).
"""

from __future__ import annotations

import ast
import cmath
import math
import numbers
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from types import MappingProxyType

import sympy

from gifsym.budget import BudgetExceeded, attempt, work_budget
from gifsym.errors import ExpressionError

__all__ = [
    "ALLOWED_FUNCTIONS",
    "CONSTANTS",
    "MAX_CALL_DEPTH",
    "MAX_DEGREE",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_MAGNITUDE",
    "MAX_NUMBER_DIGITS",
    "MAX_TOWER",
    "MIN_MAGNITUDE",
    "as_expr",
    "float_estimate",
    "free_names",
    "parse_expression",
    "parse_number",
    "simplified",
]

#: The functions an expression may call, each with exactly one positional argument.
ALLOWED_FUNCTIONS: Mapping[str, Callable[[sympy.Expr], sympy.Expr]] = MappingProxyType(
    {
        "exp": sympy.exp,
        "log": sympy.log,
        "sqrt": sympy.sqrt,
        "sin": sympy.sin,
        "cos": sympy.cos,
        "tan": sympy.tan,
        "sinh": sympy.sinh,
        "cosh": sympy.cosh,
        "tanh": sympy.tanh,
        "erf": sympy.erf,
    }
)

#: The named constants every expression may use.
CONSTANTS: Mapping[str, sympy.Expr] = MappingProxyType({"pi": sympy.pi, "E": sympy.E})

#: Longest accepted text, in characters.
MAX_LENGTH = 2000
#: Deepest accepted nesting. Left-associative chains (``a + b - c + ...``, ``a * b / c ...``) count as
#: one level, so long sums are fine while ``((((...))))`` and ``2**2**2**...`` towers are not.
MAX_DEPTH = 64
#: Largest accepted absolute value of a numeric exponent.
MAX_EXPONENT = 1000
#: Largest accepted exact number (numerator or denominator), in decimal digits.
MAX_NUMBER_DIGITS = 1000
#: Largest accepted magnitude of a number literal, and of every number in the result.
MAX_MAGNITUDE = 10**12
#: Smallest accepted magnitude of a non-zero number literal.
MIN_MAGNITUDE = sympy.Rational(1, 10**12)
#: Deepest accepted nesting of function calls (``tan(erf(tan(...)))``): SymPy's automatic evaluation and
#: assumption queries grow with it, and no schedule needs more.
MAX_CALL_DEPTH = 12
#: Largest accepted structural degree in the names (``t``): exponents multiply, products add, sums and
#: functions take the largest (``(t + 7)**956*(t + 6)**966`` is 1922, ``cos(t**-1000)`` 1000). Derivatives,
#: ``simplify`` and the prover's polynomial algebra on larger ones run for minutes inside C code, where no
#: budget can interrupt them.
MAX_DEGREE = 100
#: Tallest accepted tower of powers with non-constant exponents (``t**t`` is 1, ``t**t**t`` 2).
MAX_TOWER = 2
#: Seconds (and memory) a cosmetic ``simplify`` may take (:func:`simplified`); ordinary formulas need well
#: under one.
SIMPLIFY_SECONDS = 3.0
#: Seconds (and memory) SymPy may spend building one expression.
BUILD_SECONDS = 5.0

# Rational powers of huge rationals make SymPy trial-factor the base; keep those bases modest.
_MAX_ROOT_BASE_DIGITS = 100
_MAX_NUMBER_BITS = int(MAX_NUMBER_DIGITS * math.log2(10)) + 1

# Constructs that are never accepted, with the wording used in the error message.
_NODE_WORDS: dict[type, str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript '[...]'",
    ast.Slice: "slice",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "generator expression",
    ast.NamedExpr: "assignment expression ':='",
    ast.Compare: "comparison",
    ast.BoolOp: "boolean operator",
    ast.IfExp: "conditional expression 'if ... else'",
    ast.Starred: "starred expression '*'",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.List: "list",
    ast.Tuple: "tuple (comma-separated values)",
    ast.Set: "set",
    ast.Dict: "dict",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}

_BINOP_SYMBOLS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
}
_ACCEPTED_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_ADDITIVE = (ast.Add, ast.Sub)
_MULTIPLICATIVE = (ast.Mult, ast.Div)

# Friendly hints for names people commonly try.
_NAME_HINTS = {"e": "E", "PI": "pi", "Pi": "pi", "ln": "log", "expm": "exp", "Sqrt": "sqrt"}


def _shown(text: str) -> str:
    """The expression as quoted in messages (shortened: hostile inputs can be long)."""
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _accepted(names: Mapping[str, object]) -> str:
    parts = list(names) + ["numbers", "+ - * / **", "parentheses"]
    return ", ".join(parts) + ", " + ", ".join(ALLOWED_FUNCTIONS) + ", " + ", ".join(CONSTANTS)


class _Parser:
    """One parse: keeps the text and names so that every error can quote them."""

    def __init__(self, text: str, names: Mapping[str, sympy.Basic]) -> None:
        self.text = text
        self.names = names

    def fail(self, problem: str, node: ast.AST | None = None) -> ExpressionError:
        where = ""
        col = getattr(node, "col_offset", None)
        if col is not None and getattr(node, "lineno", 1) == 1:
            where = f" at column {col + 1}"
        return ExpressionError(
            f"{problem}{where} in expression {_shown(self.text)}; accepted: {_accepted(self.names)}"
        )

    # -- validation (iterative, so hostile nesting cannot exhaust the Python stack) -----------------

    def validate(self, tree: ast.Expression) -> None:
        """Refuses every construct outside the grammar, pre-order so the outermost offender is named."""
        stack: list[tuple[ast.AST, int, int]] = [(tree.body, 1, 0)]
        while stack:
            node, depth, calls = stack.pop()
            if depth > MAX_DEPTH:
                raise self.fail(f"expression nested too deeply (more than {MAX_DEPTH} levels)", node)
            if isinstance(node, ast.Call):
                calls += 1
                if calls > MAX_CALL_DEPTH:
                    raise self.fail(f"functions nested too deeply (more than {MAX_CALL_DEPTH} calls inside each "
                                    "other)", node)
            children = self.check_node(node)
            for child in reversed(children):
                # A left operand continuing the same associative chain does not nest deeper.
                same_chain = (
                    isinstance(node, ast.BinOp)
                    and child is node.left
                    and isinstance(child, ast.BinOp)
                    and (
                        (isinstance(node.op, _ADDITIVE) and isinstance(child.op, _ADDITIVE))
                        or (isinstance(node.op, _MULTIPLICATIVE) and isinstance(child.op, _MULTIPLICATIVE))
                    )
                )
                stack.append((child, depth if same_chain else depth + 1, calls))

    def check_node(self, node: ast.AST) -> list[ast.AST]:
        """Raises for a refused node; returns the children to check."""
        if isinstance(node, ast.Constant):
            self.check_constant(node)
            return []
        if isinstance(node, ast.Name):
            self.check_name(node)
            return []
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.BitXor):
                raise self.fail(
                    "operator '^' is not accepted (in Python it is XOR); write '**' for powers", node
                )
            if not isinstance(node.op, _ACCEPTED_BINOPS):
                symbol = _BINOP_SYMBOLS.get(type(node.op), type(node.op).__name__)
                raise self.fail(f"operator '{symbol}' is not accepted", node)
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                raise self.fail("boolean operator 'not' is not accepted", node)
            if isinstance(node.op, ast.Invert):
                raise self.fail("operator '~' is not accepted", node)
            return [node.operand]
        if isinstance(node, ast.Call):
            self.check_call(node)
            return [node.args[0]]
        if isinstance(node, ast.Attribute):
            raise self.fail(f"attribute access '.{node.attr}' is not accepted", node)
        if isinstance(node, ast.Compare):
            ops = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
            symbol = ops.get(type(node.ops[0]), type(node.ops[0]).__name__.lower())
            raise self.fail(f"comparison '{symbol}' is not accepted", node)
        if isinstance(node, ast.BoolOp):
            word = "and" if isinstance(node.op, ast.And) else "or"
            raise self.fail(f"boolean operator '{word}' is not accepted", node)
        word = _NODE_WORDS.get(type(node), f"construct '{type(node).__name__}'")
        raise self.fail(f"{word} is not accepted", node)

    def check_constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self.fail(f"constant '{value!r}' is not accepted", node)
        if isinstance(value, str):
            raise self.fail(f"string literal {_shown(value)} is not accepted", node)
        if isinstance(value, bytes):
            raise self.fail("bytes literal is not accepted", node)
        if isinstance(value, complex):
            raise self.fail(f"imaginary literal '{self.segment(node)}' is not accepted", node)
        if not isinstance(value, (int, float)):
            raise self.fail(f"literal {type(value).__name__} is not accepted", node)

    def check_name(self, node: ast.Name) -> None:
        name = node.id
        if name.startswith("__") or name.endswith("__"):
            raise self.fail(f"dunder name '{name}' is not accepted", node)
        if name in self.names or name in CONSTANTS:
            return
        if name in ALLOWED_FUNCTIONS:
            raise self.fail(f"function '{name}' needs one argument in parentheses, e.g. {name}(t)", node)
        hint = _NAME_HINTS.get(name)
        suggestion = f" (did you mean '{hint}'?)" if hint and hint not in ALLOWED_FUNCTIONS else ""
        raise self.fail(f"unknown name '{name}'{suggestion}", node)

    def check_call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            raise self.fail(f"attribute access '.{func.attr}' is not accepted", func)
        if not isinstance(func, ast.Name):
            raise self.fail("calling the result of an expression is not accepted", node)
        name = func.id
        if name.startswith("__") or name.endswith("__"):
            raise self.fail(f"dunder name '{name}' is not accepted", func)
        if name not in ALLOWED_FUNCTIONS:
            hint = _NAME_HINTS.get(name)
            suggestion = f" (did you mean '{hint}'?)" if hint in ALLOWED_FUNCTIONS else ""
            raise self.fail(f"unknown function '{name}'{suggestion}", func)
        if node.keywords:
            keyword = node.keywords[0].arg
            shown = f"'{keyword}='" if keyword else "'**'"
            raise self.fail(f"keyword argument {shown} in call of '{name}' is not accepted", node)
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise self.fail(f"starred argument '*' in call of '{name}' is not accepted", node)
        if len(node.args) != 1:
            raise self.fail(f"function '{name}' takes exactly one argument ({len(node.args)} given)", node)

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ""

    # -- translation -----------------------------------------------------------------------------

    def build(self, node: ast.AST) -> tuple[sympy.Expr, complex | None]:
        """Translates a validated node: the SymPy expression and, for constants, a float estimate.

        The estimate (``None`` for non-constant expressions) lets the exponent guard judge sizes like
        ``9**9**9`` without asking SymPy to evaluate them, and refuses constants beyond a float's range
        (``exp(exp(exp(25)))``, ``pi**668``) before anything compares or evaluates them (which never ends).
        """
        result, approx = self.translate(node)
        if approx is not None and math.isinf(abs(approx)):
            raise self.fail(f"'{self.segment(node)}' is too large (its magnitude is beyond 1e308)", node)
        return result, approx

    def translate(self, node: ast.AST) -> tuple[sympy.Expr, complex | None]:
        if isinstance(node, ast.Constant):
            value = self.number(node)
            return value, _safe(lambda: complex(value))
        if isinstance(node, ast.Name):
            value = self.names[node.id] if node.id in self.names else CONSTANTS[node.id]
            return value, _estimate(value)
        if isinstance(node, ast.UnaryOp):
            operand, approx = self.build(node.operand)
            if isinstance(node.op, ast.USub):
                return self.checked(-operand, node), None if approx is None else -approx
            return operand, approx
        if isinstance(node, ast.Call):
            arg, approx = self.build(node.args[0])
            name = node.func.id  # type: ignore[attr-defined]  # validated: a Name
            result = ALLOWED_FUNCTIONS[name](arg)
            return self.checked(result, node), None if approx is None else _approx_call(name, approx)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                return self.power(node)
            return self.chain(node)
        raise self.fail(f"construct '{type(node).__name__}' is not accepted", node)  # pragma: no cover

    def chain(self, node: ast.BinOp) -> tuple[sympy.Expr, complex | None]:
        """A left-associative chain of + - (or * /), folded iteratively (chains may be long)."""
        family = _ADDITIVE if isinstance(node.op, _ADDITIVE) else _MULTIPLICATIVE
        steps: list[ast.BinOp] = []
        current: ast.AST = node
        while isinstance(current, ast.BinOp) and isinstance(current.op, family):
            steps.append(current)
            current = current.left
        result, approx = self.build(current)
        for step in reversed(steps):
            right, right_approx = self.build(step.right)
            both = approx is not None and right_approx is not None
            if isinstance(step.op, ast.Add):
                result = result + right
                approx = approx + right_approx if both else None  # type: ignore[operator]
            elif isinstance(step.op, ast.Sub):
                result = result - right
                approx = approx - right_approx if both else None  # type: ignore[operator]
            elif isinstance(step.op, ast.Mult):
                result = result * right
                approx = _safe(lambda a=approx, b=right_approx: a * b) if both else None
            else:
                if right.is_zero is True:
                    raise self.fail("division by zero", step)
                result = result / right
                approx = _safe(lambda a=approx, b=right_approx: a / b) if both else None
            result = self.checked(result, step)
        return result, approx

    def power(self, node: ast.BinOp) -> tuple[sympy.Expr, complex | None]:
        base, base_approx = self.build(node.left)
        exponent, exp_approx = self.build(node.right)
        if exp_approx is not None:
            size = abs(exp_approx)
            if math.isnan(size):
                raise self.fail(f"exponent '{self.segment(node.right)}' cannot be bounded numerically", node)
            if size > MAX_EXPONENT:
                raise self.fail(
                    f"exponent '{self.segment(node.right)}' is too large (|exponent| > {MAX_EXPONENT})", node
                )
        # SymPy distributes numeric powers over a product's coefficient: (10**999*t)**1000 would
        # compute 10**999000 before any check could see it, so bound the coefficient first.
        coefficient = base.as_coeff_Mul()[0] if isinstance(base, sympy.Mul) else base
        if isinstance(coefficient, sympy.Rational) and isinstance(exponent, sympy.Rational):
            if base.is_zero and exponent.is_negative:
                raise self.fail("division by zero (zero to a negative power)", node)
            digits = max(_log10(coefficient.p), _log10(coefficient.q))
            if digits * abs(float(exponent)) > MAX_NUMBER_DIGITS:
                raise self.fail(
                    f"power '{self.segment(node)}' is too large (more than {MAX_NUMBER_DIGITS} digits)", node
                )
            if not exponent.is_integer and digits > _MAX_ROOT_BASE_DIGITS:
                raise self.fail(
                    f"fractional power of a number with more than {_MAX_ROOT_BASE_DIGITS} digits "
                    "is not accepted",
                    node,
                )
        result = self.checked(sympy.Pow(base, exponent), node)
        approx = None
        if base_approx is not None and exp_approx is not None:
            approx = _safe(lambda: base_approx**exp_approx)
        return result, approx

    def number(self, node: ast.Constant) -> sympy.Rational:
        value = node.value
        if isinstance(value, int):
            if value.bit_length() > _MAX_NUMBER_BITS or value > MAX_MAGNITUDE:
                raise self.fail(f"number literal is too large (more than {MAX_MAGNITUDE:.0e} in magnitude)", node)
            return sympy.Integer(value)
        # A float literal: read its source text so that 0.1 is exactly 1/10.
        source = self.segment(node).replace("_", "")
        try:
            decimal = Decimal(source)
        except InvalidOperation:
            raise self.fail(f"cannot read number literal '{source}'", node) from None
        if not decimal.is_finite() or abs(decimal.adjusted()) > MAX_NUMBER_DIGITS:
            raise self.fail(f"number literal '{source}' is too large or too small", node)
        numerator, denominator = decimal.as_integer_ratio()
        number = sympy.Rational(numerator, denominator)
        if number > MAX_MAGNITUDE:
            raise self.fail(f"number literal '{source}' is too large (more than {MAX_MAGNITUDE:.0e} in magnitude)",
                            node)
        if number != 0 and number < MIN_MAGNITUDE:
            raise self.fail(f"number literal '{source}' is too small (non-zero numbers must be at least "
                            f"{float(MIN_MAGNITUDE):.0e} in magnitude)", node)
        return number

    def checked(self, value: sympy.Expr, node: ast.AST) -> sympy.Expr:
        """Refuses infinities, undefined values and oversized exact numbers as soon as they appear."""
        if value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise self.fail(f"'{self.segment(node)}' is infinite or undefined ({value})", node)
        # Every intermediate result is checked as it is built, so new numbers can only appear at the top
        # (a Rational, or a coefficient that Add/Mul flattening just combined).
        numbers = value.args if isinstance(value, (sympy.Add, sympy.Mul)) else (value,)
        for number in numbers:
            if (
                isinstance(number, sympy.Rational)
                and max(abs(number.p), number.q).bit_length() > _MAX_NUMBER_BITS
            ):
                raise self.fail(f"number is too large (more than {MAX_NUMBER_DIGITS} digits)", node)
            if isinstance(number, sympy.Rational) and abs(number) > MAX_MAGNITUDE:
                raise self.fail(f"number {number} is too large (more than {MAX_MAGNITUDE:.0e} in magnitude)", node)
        # SymPy merges nested powers: ((t + 2)**1000)**1000 is (t + 2)**1000000, whatever the literals said.
        if isinstance(value, sympy.Pow) and value.exp.is_Number and abs(value.exp) > MAX_EXPONENT:
            raise self.fail(f"power '{self.segment(node)}' is too large (exponent {value.exp} exceeds "
                            f"{MAX_EXPONENT})", node)
        return value


def _shape(expr: sympy.Basic) -> tuple[float, int]:
    """``(degree, tower)``: the structural degree in the free symbols (exponents multiply, products add, sums
    and functions take the largest) and the height of towers of powers with non-constant exponents.

    Computed on the tree without expanding anything (shared subtrees once), so it bounds the work of the
    polynomial algebra that derivatives, ``simplify`` and the prover do later.
    """
    memo: dict[sympy.Basic, tuple[float, int]] = {}

    def go(e: sympy.Basic) -> tuple[float, int]:
        if e in memo:
            return memo[e]
        if not e.free_symbols:
            out = (0.0, 0)
        elif e.is_Symbol:
            out = (1.0, 0)
        elif isinstance(e, sympy.Pow):
            (db, hb), (de, he) = go(e.base), go(e.exp)
            out = (db * abs(float(e.exp)), hb) if e.exp.is_Number else (db + de, max(hb, he + 1))
        else:
            parts = [go(a) for a in e.args]
            degrees = [d for d, _ in parts]
            out = (sum(degrees) if isinstance(e, sympy.Mul) else max(degrees), max(h for _, h in parts))
        memo[e] = out
        return out

    return go(expr)


def float_estimate(expr: sympy.Basic) -> complex | None:
    """A float estimate of a constant expression built from numbers, ``pi``, ``E``, ``+ * **`` and
    :data:`ALLOWED_FUNCTIONS`, without asking SymPy to evaluate it (``inf`` where it overflows a float);
    ``None`` for anything else (symbols, other functions).

    Comparing ``exp(exp(exp(25)))`` with a number makes SymPy evaluate it, which never ends; this does not.

    Example:
        >>> import sympy
        >>> float_estimate(sympy.exp(sympy.exp(sympy.exp(25))))
        (inf+0j)
        >>> abs(float_estimate(2 * sympy.pi) - 6.283185307179586) < 1e-15
        True
    """
    memo: dict[sympy.Basic, complex | None] = {}
    functions = {type(f(sympy.Symbol("x"))): name for name, f in ALLOWED_FUNCTIONS.items() if name != "sqrt"}

    def go(e: sympy.Basic) -> complex | None:
        if e in memo:
            return memo[e]
        if isinstance(e, sympy.Rational):
            out = _safe(lambda: complex(e.p / e.q)) if max(abs(e.p), e.q).bit_length() < 1000 else (
                complex(math.inf) if abs(e.p) > e.q else complex(0))
        elif isinstance(e, sympy.Float) or e in (sympy.pi, sympy.E, sympy.I):
            out = _safe(lambda: complex(e))
        elif isinstance(e, (sympy.Add, sympy.Mul, sympy.Pow)) or type(e) in functions:
            args = [go(a) for a in e.args]
            if any(a is None for a in args):
                out = None
            elif isinstance(e, sympy.Add):
                out = _safe(lambda: sum(args, complex(0)))
            elif isinstance(e, sympy.Mul):
                out = _safe(lambda: math.prod(args))
            elif isinstance(e, sympy.Pow):
                out = _safe(lambda: args[0] ** args[1]) if args[0] != 0 else complex(0)
            else:
                out = _approx_call(functions[type(e)], args[0])
        else:
            out = None
        memo[e] = out
        return out

    return go(expr)


def _log10(n: int) -> float:
    """log10 of ``|n|`` (0 for 0), cheap even for numbers too large for a float."""
    n = abs(n)
    if n == 0:
        return 0.0
    return math.log10(n) if n.bit_length() < 1000 else n.bit_length() * math.log10(2)


def _safe(compute) -> complex:
    """A float estimate that turns overflow into infinity instead of an exception."""
    try:
        return complex(compute())
    except OverflowError:
        return complex(math.inf)
    except (ZeroDivisionError, ValueError):
        return complex(math.nan)


def _estimate(value: sympy.Basic) -> complex | None:
    """A float estimate of a named value (``None`` unless it is a plain number)."""
    if isinstance(value, sympy.Number) or value in (sympy.pi, sympy.E):
        return _safe(lambda: complex(value))
    return None


def _approx_call(name: str, z: complex) -> complex:
    if name == "erf":
        return _safe(lambda: math.erf(z.real)) if z.imag == 0 else complex(math.nan)
    function = getattr(cmath, name)
    return _safe(lambda: function(z))


def _check_text(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise ExpressionError(f"{what} must be a string, not {type(text).__name__} ({text!r:.60})")
    # Only ASCII whitespace is trimmed: str.strip() would silently drop Unicode spaces such as U+0085.
    stripped = text.strip(" \t\n\r")
    if not stripped:
        raise ExpressionError(f"{what} is empty; write e.g. '1 - t' or '0.5'")
    if len(stripped) > MAX_LENGTH:
        raise ExpressionError(
            f"{what} is too long ({len(stripped)} characters, at most {MAX_LENGTH}): {_shown(stripped)}"
        )
    for position, char in enumerate(stripped):
        code = ord(char)
        if code > 127:
            # Checked on the raw text: Python would NFKC-normalize look-alikes such as fullwidth digits.
            name = unicodedata.name(char, "unnamed character")
            raise ExpressionError(
                f"non-ASCII character {char!r} (U+{code:04X} {name}) at column {position + 1} in "
                f"{what} {_shown(stripped)}; only ASCII letters, digits and + - * / ** ( ) are accepted"
            )
        if code < 32 and char not in "\t\n\r" or code == 127:
            raise ExpressionError(
                f"control character U+{code:04X} at column {position + 1} in {what} {_shown(stripped)}"
            )
        if char == "#":
            raise ExpressionError(f"comment '#' at column {position + 1} in {what} {_shown(stripped)}")
    return stripped


def parse_expression(text: str, *, names: Mapping[str, sympy.Basic]) -> sympy.Expr:
    """Parses ``text`` into a SymPy expression without evaluating any code.

    Only numbers, the given ``names``, the constants ``pi`` and ``E``, the operators ``+ - * / **``,
    unary ``+ -``, parentheses and one-argument calls of :data:`ALLOWED_FUNCTIONS` are accepted. Decimal
    literals are read exactly: ``0.1`` becomes :math:`1/10`.

    Args:
        text: The expression, e.g. ``"sqrt(1 - exp(-beta*(1 - t)))"``.
        names: The identifiers the expression may use and the SymPy objects they stand for (typically
            the time symbol ``t`` and declared parameters).

    Returns:
        The SymPy expression.

    Raises:
        ExpressionError: ``text`` is not a string, is empty, too long, too deeply nested, contains a
            non-ASCII character, or uses anything outside the grammar; the message names the offending
            token and lists what is accepted.

    Example:
        >>> import sympy
        >>> t = sympy.Symbol("t")
        >>> parse_expression("0.1*t**2 + sqrt(2)", names={"t": t})
        t**2/10 + sqrt(2)
    """
    stripped = _check_text(text, "expression")
    clean_names: dict[str, sympy.Basic] = {}
    for key, value in names.items():
        if not isinstance(key, str) or not key.isascii() or not key.isidentifier():
            raise ExpressionError(f"name {key!r} is not an ASCII identifier")
        if key in ALLOWED_FUNCTIONS:
            raise ExpressionError(f"name '{key}' clashes with the function of the same name")
        if isinstance(value, str):
            raise ExpressionError(f"value of name '{key}' is not a SymPy object: {value!r:.60}")
        try:
            clean_names[key] = as_expr(value, what=f"value of name '{key}'")
        except ExpressionError:
            raise ExpressionError(f"value of name '{key}' is not a SymPy object: {value!r:.60}") from None
    parser = _Parser(stripped, clean_names)
    try:
        with warnings.catch_warnings():
            # e.g. "invalid escape sequence" in a string literal, which is refused anyway
            warnings.simplefilter("ignore")
            tree = ast.parse(stripped, mode="eval")
    except SyntaxError as error:
        column = f" at column {error.offset}" if error.offset else ""
        detail = (error.msg or "invalid syntax").split(" (")[0]
        raise ExpressionError(
            f"cannot parse expression {_shown(stripped)}: {detail}{column}; accepted: "
            f"{_accepted(clean_names)}"
        ) from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as error:
        raise ExpressionError(f"cannot parse expression {_shown(stripped)}: {error}") from None
    parser.validate(tree)
    try:
        with work_budget(BUILD_SECONDS, strict=False):
            result, _ = parser.build(tree.body)
            degree, tower = _shape(result)
    except BudgetExceeded as error:
        what = "time" if error.reason == "time" else "memory"
        raise ExpressionError(f"expression {_shown(stripped)} is too costly to build (SymPy ran out of its "
                              f"{what} budget); simplify it") from None
    except ExpressionError:
        raise
    except RecursionError:
        raise parser.fail("expression nested too deeply") from None
    except Exception as error:  # noqa: BLE001 — SymPy internals can fail on odd numbers; never leak them
        raise parser.fail(f"SymPy could not build the expression ({type(error).__name__}: {error})") from None
    if degree > MAX_DEGREE:
        raise parser.fail(f"expression is too large a polynomial (degree {degree:.0f} in {', '.join(map(str, sorted(result.free_symbols, key=str)))}, "
                          f"more than {MAX_DEGREE})")
    if tower > MAX_TOWER:
        raise parser.fail(f"powers nested too deeply: a tower of {tower} powers with non-constant exponents "
                          f"inside each other, more than {MAX_TOWER}")
    return result


def free_names(text: str) -> tuple[str, ...]:
    """The names an expression uses as values that are not functions or constants, in order of first use.

    This lets a caller declare them (a custom schedule's parameters) before :func:`parse_expression`, which
    still validates everything. Names with a known misspelling hint (``e``, ``ln``, ...) and dunder names
    are left out, so that parsing refuses them with its message; unparseable text gives ``()`` for the
    same reason.

    Example:
        >>> free_names("1 - t**n + exp(-beta*t) + pi")
        ('t', 'n', 'beta')
    """
    try:
        stripped = _check_text(text, "expression")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(stripped, mode="eval")
    except (ExpressionError, SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return ()
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    out: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name) or id(node) in called:
            continue
        name = node.id
        if (name in ALLOWED_FUNCTIONS or name in CONSTANTS or name in _NAME_HINTS or name.startswith("__")
                or name.endswith("__") or name in out):
            continue
        out.append(name)
    # ast.walk is breadth-first; report the names in the order they are written.
    return tuple(sorted(out, key=lambda n: stripped.find(n)))


def parse_number(text: str) -> sympy.Expr:
    """Parses a parameter value into an exact real SymPy number.

    The grammar is that of :func:`parse_expression` with no names (only ``pi`` and ``E``), so ``"0.1"``,
    ``"1/3"``, ``"sqrt(2)"`` and ``"2*pi"`` are all accepted and exact.

    Args:
        text: The value as written, e.g. ``"0.1"``.

    Returns:
        An exact SymPy number (a Rational where the input is rational).

    Raises:
        ExpressionError: ``text`` is not in the grammar or its value is not a real number.

    Example:
        >>> parse_number("0.1")
        1/10
        >>> parse_number("2*pi")
        2*pi
    """
    value = parse_expression(text, names={})
    if value.is_extended_real is False:
        raise ExpressionError(f"value {_shown(text.strip())} is not a real number ({value})")
    return value


def as_expr(value: object, *, names: Mapping[str, sympy.Basic] | None = None,
            what: str = "expression") -> sympy.Expr:
    """A caller's value as a SymPy object: the one door from caller input into SymPy.

    ``sympify`` (and so every SymPy function given a string) runs :func:`eval` on strings; no module of
    gifsym calls it (``tests/test_security.py`` checks). Instead:

    * a ``str`` is parsed by :func:`parse_expression` with ``names`` (nothing is evaluated);
    * a SymPy object is returned as it is;
    * an ``int`` or NumPy integer becomes an ``Integer``, a :class:`~fractions.Fraction` a ``Rational``;
    * a ``float`` or NumPy float becomes the exact rational of its shortest decimal (``0.1`` is ``1/10``, as
      in :func:`parse_expression`); ``±inf`` becomes ``±oo`` (callers that need a finite value check);
    * anything else (``bool``, ``None``, NaN, complex numbers, arrays, lists, other objects) is refused.

    Args:
        value: The caller's value.
        names: The identifiers a string may use (e.g. ``{"t": t}``); none but ``pi`` and ``E`` by default.
        what: How error messages name the value (e.g. ``"sigma"``).

    Returns:
        A SymPy object.

    Raises:
        ExpressionError: a string outside the grammar, or a value of a refused type.

    Example:
        >>> import sympy
        >>> from fractions import Fraction
        >>> t = sympy.Symbol("t")
        >>> as_expr("1 - t", names={"t": t}), as_expr(0.1), as_expr(Fraction(1, 3)), as_expr(t**2)
        (1 - t, 1/10, 1/3, t**2)
    """
    if isinstance(value, str):
        return parse_expression(value, names=names or {})
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, bool) or value is None:
        raise ExpressionError(f"{what}={value!r} is not a number or an expression")
    if isinstance(value, numbers.Integral):
        return sympy.Integer(int(value))
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isnan(f):
            raise ExpressionError(f"{what}={value!r} is not a number (NaN)")
        if math.isinf(f):
            return sympy.oo if f > 0 else -sympy.oo
        # repr gives the shortest decimal that round-trips, so 0.1 becomes exactly 1/10
        return sympy.Rational(repr(f))
    raise ExpressionError(f"{what}={value!r:.60} is not a number or an expression (a {type(value).__name__}); "
                          "give a string such as '1 - t', a real number or a SymPy expression")


def simplified(expr: sympy.Expr) -> sympy.Expr:
    """``sympy.simplify(expr)`` within :data:`SIMPLIFY_SECONDS` and the default memory budget, else ``expr``
    unchanged (the same value): for simplifications that are only cosmetic, which SymPy can otherwise run
    for minutes and gigabytes on short inputs (``cos(t**-1000)``, a smoothing ``sigma = sinh(E)``).

    Example:
        >>> import sympy
        >>> x = sympy.Symbol("x")
        >>> simplified(sympy.sin(x)**2 + sympy.cos(x)**2)
        1
        >>> simplified(sympy.sinh(sympy.E) / (x * sympy.sinh(sympy.E) + sympy.sinh(sympy.E)))
        1/(x + 1)
    """
    # A function of a constant (sinh(E), cos(1)) sends simplify's trigonometric rewriting (fu) through
    # thousands of forms of that constant: 3 s, then the budget, on a formula that is a rational function of
    # it. Such constants are opaque here: each becomes a symbol with its sign, and comes back afterwards.
    opaque = {f: _stand_in(f) for f in expr.atoms(sympy.Function)
              if f.is_number and not isinstance(f, (sympy.exp, sympy.log))}
    ok, simple = attempt(lambda: sympy.simplify(expr.xreplace(opaque)), SIMPLIFY_SECONDS, terminates=True)
    if not ok:
        return expr
    return simple.xreplace({s: f for f, s in opaque.items()}) if opaque else simple


def _stand_in(constant: sympy.Expr) -> sympy.Dummy:
    """A symbol with the sign of a constant (as far as SymPy's assumptions know it cheaply)."""
    if constant.is_positive:
        return sympy.Dummy(positive=True)
    if constant.is_negative:
        return sympy.Dummy(negative=True)
    return sympy.Dummy(real=True) if constant.is_extended_real else sympy.Dummy()
