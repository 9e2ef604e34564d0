r"""The lemma engine: lemmas as data, a registry that validates them into a graph, computes each lemma's
status and derives its formula for a flow.

A :class:`Lemma` is data: a name, a kind (definition / lemma / proposition / theorem), a LaTeX statement,
the assumption ids it needs directly (schedule assumptions ``S-*`` and target classes ``T-*``), the lemmas
it ``uses`` (all needed) and the lemmas it may combine (``any_of``: at least one needed; its derive
function sees those that apply), and either a small pure ``derive(ctx, deps)`` that produces its formula
for a flow from the formulas of the lemmas it declares, or a stated ``formula`` (a cited result, taken as
given). The engine knows no particular lemma: a :class:`Registry` is built from any collection of them
(gifsym's own library is :mod:`gifsym.theory.library`, served by :mod:`gifsym.theory.lemmas`).

* :meth:`Registry.graph` — a ``networkx.DiGraph`` (edge ``u → v`` when ``v`` uses ``u``); a malformed
  library (unknown names or assumption ids, cycles, bad kinds) raises :class:`~gifsym.errors.GraphError`
  listing every problem.
* :meth:`Registry.requires` — the assumption ids every flow needs for a lemma: the union of the direct
  assumptions of the lemma and of its ancestors along ``uses`` edges.
* :meth:`Registry.applicable` — the lemmas whose assumptions a flow satisfies, in dependency order.
* :meth:`Registry.status` — computed, never stored: ``derived``, ``numerically checked`` or ``stated``.
* :meth:`Registry.derive` — the lemma's formula for a flow; the derive function receives the formulas of
  the lemmas it declares, and nothing else (reading any other name raises :class:`~gifsym.errors.LemmaError`).

Example:
    >>> reg = Registry([Lemma("one", "definition", "One", "$1$", formula=(("value", sympy.Integer(1)),))])
    >>> reg.status("one"), dict(reg.derive("one"))
    ('stated', {'value': 1})
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import sympy

from gifsym.errors import AssumptionError, GifsymError, GraphError, LemmaError
from gifsym.io import atomic_path, write_atomic
from gifsym.symbolic.classes import TARGET_CLASSES
from gifsym.symbolic.flow import Flow, instantiate
from gifsym.symbolic.schedule import SCHEDULE_ASSUMPTIONS, Schedule
from gifsym.symbolic.target import Membership, Target

if TYPE_CHECKING:  # imported where used: a run answered from the cache never needs networkx
    import networkx as nx

#: The kinds a lemma may have (they pick the LaTeX environment of a report).
KINDS = ("definition", "lemma", "proposition", "theorem")
#: The computed statuses, strongest first.
STATUSES = ("derived", "numerically checked", "stated")
#: Assumption ids of math.md: schedule assumptions and target classes.
ASSUMPTION_IDS = frozenset(SCHEDULE_ASSUMPTIONS) | frozenset(TARGET_CLASSES)

_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*\Z")


@dataclass(frozen=True)
class Context:
    """What a derive function knows about the flow besides the formulas it uses.

    Attributes:
        schedule: the flow's schedule.
        target: the flow's target.
    """

    schedule: Schedule
    target: Target

    def memberships(self, class_id: str) -> tuple[Membership, ...]:
        """The target's memberships in a class (declared and implied), e.g. ``ctx.memberships("T-slc")``."""
        return self.target.memberships(class_id)

    def instantiate(self, expr: sympy.Expr) -> sympy.Expr:
        """Substitute the schedule's ``a, ȧ, b, ḃ`` for the placeholders of :mod:`gifsym.symbolic.flow`."""
        return instantiate(expr, self.schedule)

    @property
    def flow(self) -> Flow:
        """The flow itself (for lemmas that compare with the symbolic layer's exact objects)."""
        return Flow(self.schedule, self.target)


class Deps(Mapping):
    """The formulas a derive function may read: exactly the lemmas its lemma declares.

    Reading an undeclared name (``[]``, ``get`` or ``in``) raises :class:`LemmaError`; reading a declared
    alternative (``any_of``) that does not apply to the flow raises :class:`AssumptionError` (``get``
    returns the default instead).
    """

    __slots__ = ("_declared", "_lemma", "_values")

    def __init__(self, lemma: Lemma, values: Mapping[str, Any]) -> None:
        self._lemma = lemma
        self._declared = frozenset(lemma.uses) | frozenset(lemma.any_of)
        self._values = {k: v for k, v in values.items() if k in self._declared}

    def _check(self, name: str) -> None:
        if name not in self._declared:
            decl = ", ".join(self._lemma.uses + self._lemma.any_of) or "nothing"
            raise LemmaError(f"lemma {self._lemma.name!r} read the formula of {name!r}, which it does not declare "
                             f"(it declares: {decl}); add {name!r} to its uses")

    def __getitem__(self, name: str) -> Any:
        self._check(name)
        if name not in self._values:
            raise AssumptionError(f"{name!r} (an alternative of {self._lemma.name!r}) does not apply to this flow")
        return self._values[name]

    def get(self, name: str, default: Any = None) -> Any:
        self._check(name)
        return self._values.get(name, default)

    def __contains__(self, name: object) -> bool:
        self._check(str(name))
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


@dataclass(frozen=True)
class Lemma:
    r"""One result of the theory, as data.

    Attributes:
        name: its id (lower-case words joined by ``-``), e.g. ``"bound-slc"``.
        kind: ``definition``, ``lemma``, ``proposition`` or ``theorem``.
        title: a short human title.
        statement: the statement in LaTeX (text mode, with inline maths).
        assumptions: the assumption ids it needs directly (``S-*`` and ``T-*``).
        uses: the lemmas it needs (all of them).
        any_of: alternatives it combines; it applies when at least one does.
        derive: ``derive(ctx, deps) -> formula``, pure; None for a stated result.
        formula: a stated result's formula, ``((key, SymPy expression), ...)``.
        checks: numerical checks as ``"module:function"`` references (see :func:`register_check`).
        reference: where the result comes from (paper section, textbook).
        implies: for a lemma that shows a target of its class is in other classes (a Gaussian is
            κ-semi-log-concave, …): those class ids. Results that use such an implied membership cite it.
    """

    name: str
    kind: str
    title: str
    statement: str
    assumptions: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    derive: Callable[[Context, Deps], Any] | None = field(default=None, compare=False)
    formula: tuple[tuple[str, sympy.Basic], ...] = ()
    checks: tuple[str, ...] = ()
    reference: str = ""
    implies: tuple[str, ...] = ()

    @property
    def classes(self) -> tuple[str, ...]:
        """The target classes the lemma is about (its ``T-*`` assumptions)."""
        return tuple(a for a in self.assumptions if a.startswith("T-"))

    def to_latex(self) -> str:
        """The lemma as a LaTeX environment (``\\begin{theorem}[title] ... \\end{theorem}``)."""
        env = self.kind if self.kind != "definition" else "definition"
        ass = ", ".join(self.assumptions) or "none"
        lines = [rf"\begin{{{env}}}[{self.title}]", self.statement,
                 rf"\par\noindent\textit{{Assumptions:}} {ass}."]
        if self.uses or self.any_of:
            used = ", ".join(self.uses)
            if self.any_of:
                used += ("; " if used else "") + "one of " + ", ".join(self.any_of)
            lines.append(rf"\par\noindent\textit{{Uses:}} {used}.")
        lines.append(rf"\end{{{env}}}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# Numerical checks: the numerics layer registers what it checks; status is computed from this registry.


@dataclass(frozen=True)
class Check:
    """A numerical check of a lemma: a callable, or a ``"module:function"`` reference loaded on demand."""

    lemma: str
    function: Any
    description: str = ""

    @property
    def available(self) -> bool:
        """Whether the check can run in this installation (its module exists), without importing it."""
        if callable(self.function):
            return True
        module = str(self.function).partition(":")[0]
        try:
            return importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            return False

    def resolve(self) -> Callable:
        """The check function (imports its module if given by reference)."""
        if callable(self.function):
            return self.function
        module, _, attr = str(self.function).partition(":")
        return getattr(importlib.import_module(module), attr)


_CHECKS: dict[str, list[Check]] = {}


def register_check(name: str, function: Callable | str, *, description: str = "") -> Check:
    """Register a numerical check of lemma ``name`` (a callable or ``"module:function"``); returns it.

    A lemma with no derivation but a registered check has status ``numerically checked``.
    """
    check = Check(name, function, description)
    _CHECKS.setdefault(name, []).append(check)
    return check


def unregister_check(check: Check) -> None:
    """Remove a check registered with :func:`register_check`."""
    lst = _CHECKS.get(check.lemma, [])
    if check in lst:
        lst.remove(check)


# ---------------------------------------------------------------------------------------------------------
# The registry


class _NotApplicable:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class Held(AbstractSet):
    """The assumption ids a flow satisfies, decided lazily (see :meth:`Registry.held`).

    A schedule assumption ``S-*`` is in the set when the checker proves it, or when the caller assumes it and
    the checker could not decide it (``unknown``): ``assume`` fills in what is unknown, never what is
    violated. Target classes are those the target belongs to.
    """

    def __init__(self, schedule: Schedule, classes: frozenset[str], assume: frozenset[str]) -> None:
        self.schedule, self.classes, self.assume = schedule, classes, assume

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if key.startswith("S-") and key in SCHEDULE_ASSUMPTIONS:
            status = self.schedule.verdict(key).status
            return status == "holds" or (status == "unknown" and key in self.assume)
        return key in self.classes or (key in self.assume and not key.startswith("S-"))

    @classmethod
    def _from_iterable(cls, it: Iterable[str]) -> frozenset[str]:  # set operations give plain frozensets
        return frozenset(it)

    def _all(self) -> frozenset[str]:
        return frozenset(k for k in (*SCHEDULE_ASSUMPTIONS, *self.classes, *self.assume) if k in self)

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def check_assume(schedule: Schedule, assume: Iterable[str]) -> None:
    """Refuse to assume what the checker proved violated (``--assume`` only fills in ``unknown``).

    Raises:
        AssumptionError: an assumed schedule assumption is violated.
    """
    for a in assume:
        if a.startswith("S-") and a in SCHEDULE_ASSUMPTIONS:
            v = schedule.verdict(a)
            if v.status == "violated":
                raise AssumptionError(f"cannot assume {a}: it is violated for schedule {schedule.spec} ({v.reason}); "
                                      "--assume only fills in assumptions the checker could not decide")


class Registry:
    """A set of lemmas, its graph and the derivations for flows (results cached per flow).

    Args:
        lemmas: the lemmas (names unique).
        assumption_ids: the known assumption ids (default: those of math.md).
    """

    #: Flows whose derived formulas are kept (least recently used are dropped first).
    CACHE_FLOWS = 512

    def __init__(self, lemmas: Iterable[Lemma], *, assumption_ids: Iterable[str] = ASSUMPTION_IDS) -> None:
        self._list = tuple(lemmas)
        self._lemmas = {lem.name: lem for lem in self._list}
        self._ids = frozenset(assumption_ids)
        self._memo: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"Registry({len(self._list)} lemmas)"

    def __iter__(self) -> Iterator[Lemma]:
        return iter(self._list)

    def __len__(self) -> int:
        return len(self._list)

    def __contains__(self, name: object) -> bool:
        return name in self._lemmas

    def extend(self, *lemmas: Lemma, replace_existing: bool = False) -> Registry:
        """A new registry with more lemmas (``replace_existing=True`` lets a lemma replace one of the same
        name, e.g. a test-only lemma)."""
        new = {lem.name: lem for lem in self._list}
        for lem in lemmas:
            if lem.name in new and not replace_existing:
                raise GraphError(f"lemma {lem.name!r} already exists; pass replace_existing=True to replace it")
            new[lem.name] = lem
        return Registry(new.values(), assumption_ids=self._ids)

    # -- graph ---------------------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Every problem of the library (empty when it is well formed)."""
        import networkx as nx
        out: list[str] = []
        seen: set[str] = set()
        for lem in self._list:
            if lem.name in seen:
                out.append(f"duplicate lemma name {lem.name!r}")
            seen.add(lem.name)
            if not isinstance(lem.name, str) or not _NAME.match(lem.name):
                out.append(f"lemma name {lem.name!r} is not lower-case words joined by '-'")
            if lem.kind not in KINDS:
                out.append(f"lemma {lem.name!r}: unknown kind {lem.kind!r} (accepted: {', '.join(KINDS)})")
            for a in lem.assumptions:
                if a not in self._ids:
                    out.append(f"lemma {lem.name!r}: unknown assumption id {a!r}")
            for rel, names in (("uses", lem.uses), ("any_of", lem.any_of)):
                for u in names:
                    if u == lem.name:
                        out.append(f"lemma {lem.name!r} {rel} itself")
                    elif u not in self._lemmas:
                        out.append(f"lemma {lem.name!r} {rel} unknown lemma {u!r}")
            if lem.derive is not None and not callable(lem.derive):
                out.append(f"lemma {lem.name!r}: derive is not callable")
            if lem.derive is not None and lem.formula:
                out.append(f"lemma {lem.name!r} has both a derive function and a stated formula")
        g = self._raw_graph()
        for cycle in nx.simple_cycles(g):
            out.append("cycle: " + " -> ".join([*cycle, cycle[0]]))
        return out

    def _raw_graph(self) -> nx.DiGraph:
        import networkx as nx
        g = nx.DiGraph()
        for lem in self._list:
            g.add_node(lem.name)
        for lem in self._list:
            for rel, names in (("uses", lem.uses), ("any_of", lem.any_of)):
                for u in names:
                    if u in self._lemmas and u != lem.name:
                        g.add_edge(u, lem.name, relation=rel)
        return g

    @cached_property
    def _graph(self) -> nx.DiGraph:
        problems = self.problems()
        if problems:
            raise GraphError("the lemma graph is malformed:\n  - " + "\n  - ".join(problems))
        g = self._raw_graph()
        for lem in self._list:
            g.nodes[lem.name].update(kind=lem.kind, title=lem.title, assumptions=lem.assumptions, lemma=lem)
        return g

    def validate(self) -> None:
        """Build the graph; raise :class:`GraphError` listing every problem."""
        self._graph  # noqa: B018 - building it validates

    def graph(self) -> nx.DiGraph:
        """The graph (a copy): nodes are lemma names with ``kind``, ``title``, ``assumptions``, ``status`` and
        ``lemma``; an edge ``u → v`` (attribute ``relation``: ``uses`` or ``any_of``) when v uses u."""
        g = self._graph.copy()
        for n in g.nodes:
            g.nodes[n]["status"] = self.status(n)
        return g

    @cached_property
    def _order(self) -> tuple[str, ...]:
        import networkx as nx
        return tuple(nx.lexicographical_topological_sort(self._graph))

    def names(self) -> tuple[str, ...]:
        """Every lemma name, in dependency order (ties broken by name)."""
        return self._order

    def get(self, name: str) -> Lemma:
        """The lemma called ``name`` (raises :class:`LemmaError` naming close matches)."""
        self.validate()
        try:
            return self._lemmas[name]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(str(name), self._lemmas, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else "; see `gifsym lemmas list`"
            raise LemmaError(f"unknown lemma {name!r}{hint}") from None

    lemma = get

    def requires(self, name: str) -> frozenset[str]:
        """The union of the direct assumptions of ``name`` and of its ancestors along ``uses`` edges; for a
        lemma with alternatives, also what *every* alternative requires (their intersection)."""
        lem = self.get(name)
        out = set(lem.assumptions)
        for u in lem.uses:
            out |= self.requires(u)
        if lem.any_of:
            out |= frozenset.intersection(*(self.requires(a) for a in lem.any_of))
        return frozenset(out)

    def alternatives(self, name: str) -> tuple[tuple[str, frozenset[str]], ...]:
        """For a lemma with ``any_of``: each alternative and what it requires (one of them must apply)."""
        return tuple((a, self.requires(a)) for a in self.get(name).any_of)

    def ancestors(self, name: str) -> frozenset[str]:
        """Every lemma ``name`` depends on (along ``uses`` and ``any_of`` edges)."""
        import networkx as nx
        self.get(name)
        return frozenset(nx.ancestors(self._graph, name))

    def status(self, name: str) -> str:
        """``derived``, ``numerically checked`` or ``stated`` (computed from the lemma and the check registry)."""
        lem = self.get(name)
        if lem.derive is not None:
            return "derived"
        if any(c.available for c in self.checks(name)):
            return "numerically checked"
        return "stated"

    def checks(self, name: str) -> tuple[Check, ...]:
        """The numerical checks of a lemma: its own references and those registered at run time."""
        lem = self.get(name)
        return tuple(Check(name, ref) for ref in lem.checks) + tuple(_CHECKS.get(name, ()))

    def implying(self, class_id: str) -> tuple[str, ...]:
        """The lemmas that derive the class memberships a target of ``class_id`` implies (see ``Lemma.implies``)."""
        return tuple(n for n in self.names() if self.get(n).implies and class_id in self.get(n).assumptions)

    # -- applicability -------------------------------------------------------------------------------

    @staticmethod
    def held(gif: Any, assume: Iterable[str] = ()) -> Held:
        """The assumption ids a flow satisfies: proved schedule assumptions, target classes, and the ``assume``
        ids the checker could not decide (an assumption proved violated is never taken as given). Lazy: a
        schedule assumption is checked only when a lemma asks for it."""
        return Held(gif.schedule, gif.target.class_ids(), frozenset(assume))

    def _applies(self, name: str, held: frozenset[str], memo: dict[str, bool]) -> bool:
        if name in memo:
            return memo[name]
        lem = self._lemmas[name]
        ok = all(a in held for a in lem.assumptions) and all(self._applies(u, held, memo) for u in lem.uses)
        if ok and lem.any_of:
            ok = any(self._applies(u, held, memo) for u in lem.any_of)
        memo[name] = ok
        return ok

    def applicable(self, gif: Any, *, assume: Iterable[str] = ()) -> list[str]:
        """The lemmas that hold for ``gif``, in dependency order."""
        self.validate()
        held = self.held(gif, assume)
        memo: dict[str, bool] = {}
        return [n for n in self._order if self._applies(n, held, memo)]

    def missing(self, name: str, gif: Any, *, assume: Iterable[str] = ()) -> frozenset[str]:
        """The assumption ids ``gif`` lacks for ``name`` (empty when it applies or only an alternative fails)."""
        return self.requires(name) - self.held(gif, assume)

    def why_not(self, name: str, gif: Any, *, assume: Iterable[str] = ()) -> str:
        """A sentence saying why ``name`` does not apply to ``gif``, following the first failing premise
        down to the assumptions (with the schedule checker's reasons)."""
        held = self.held(gif, assume)
        memo: dict[str, bool] = {}

        def reason(n: str) -> str:
            lem = self._lemmas[n]
            miss = [a for a in lem.assumptions if a not in held]
            if miss:
                return self.explain(miss, gif)
            for u in lem.uses:
                if not self._applies(u, held, memo):
                    return f"it uses {u!r}, which does not apply: " + reason(u)
            if lem.any_of:
                alts = ", ".join(f"{a} (needs {', '.join(sorted(self.requires(a) - held)) or 'its premises'})"
                                 for a in lem.any_of)
                return f"none of its alternatives applies: {alts}"
            return "it applies"

        self.get(name)
        return f"{name!r} does not apply: " + reason(name)

    @staticmethod
    def explain(ids: Iterable[str], gif: Any) -> str:
        """Why each assumption id does not hold for ``gif`` (the checker's status and reason)."""
        out = []
        for a in ids:
            if a.startswith("S-"):
                v = gif.schedule.verdict(a)
                out.append(f"{a} is {v.status} for schedule {gif.schedule.spec} ({v.reason})")
            else:
                out.append(f"the target {gif.target.spec!r} is not in class {a}")
        return "; ".join(out)

    # -- derivation ----------------------------------------------------------------------------------

    def _results(self, schedule: Schedule, target: Target, assume: frozenset[str]) -> dict[str, Any]:
        key = (schedule, target, assume)
        with self._lock:
            memo = self._memo.get(key)
            if memo is None:
                memo = self._memo[key] = {}
                while len(self._memo) > self.CACHE_FLOWS:
                    self._memo.popitem(last=False)
            else:
                self._memo.move_to_end(key)
        return memo

    def derive(self, name: str, gif: Any = None, *, assume: Iterable[str] = ()) -> Any:
        """The formula of ``name`` for the flow ``gif`` (raises :class:`AssumptionError` when it does not
        apply). Pure derivations are cached per (schedule, target). ``gif=None`` derives a result that needs
        no assumption at all (e.g. ``velocity-stability``); its derive function then gets ``ctx=None``."""
        self.get(name)
        assume = frozenset(assume)
        if gif is None:
            held, memo, ctx = assume, self._results(None, None, assume), None
        else:
            held = self.held(gif, assume)
            memo = self._results(gif.schedule, gif.target, assume)
            ctx = Context(gif.schedule, gif.target)
        out = self._derive(name, ctx, held, memo)
        if isinstance(out, _NotApplicable):
            if gif is None:
                raise AssumptionError(f"{name!r} needs a flow: it requires {', '.join(sorted(self.requires(name)))}")
            raise AssumptionError(self.why_not(name, gif, assume=assume))
        return out

    def try_derive(self, name: str, gif: Any, *, assume: Iterable[str] = ()) -> Any | None:
        """Like :meth:`derive`, but None when the lemma does not apply."""
        try:
            return self.derive(name, gif, assume=assume)
        except AssumptionError:
            return None

    def _derive(self, name: str, ctx: Context, held: frozenset[str], memo: dict[str, Any]) -> Any:
        if name in memo:
            return memo[name]
        lem = self._lemmas[name]
        if not all(a in held for a in lem.assumptions):
            memo[name] = _NotApplicable("assumptions")
            return memo[name]
        values: dict[str, Any] = {}
        for u in lem.uses:
            v = self._derive(u, ctx, held, memo)
            if isinstance(v, _NotApplicable):
                memo[name] = _NotApplicable(u)
                return memo[name]
            values[u] = v
        for u in lem.any_of:
            v = self._derive(u, ctx, held, memo)
            if not isinstance(v, _NotApplicable):
                values[u] = v
        if lem.any_of and not any(u in values for u in lem.any_of):
            memo[name] = _NotApplicable("alternatives")
            return memo[name]
        if lem.derive is None:
            out = dict(lem.formula) if lem.formula else None
        else:
            try:
                out = lem.derive(ctx, Deps(lem, values))
            except GifsymError:
                raise
            except Exception as e:  # a derive function failing is the library's bug: say which one
                where = f" for schedule {ctx.schedule.spec} and target {ctx.target.spec!r}" if ctx else ""
                raise LemmaError(f"deriving {name!r}{where} failed: {type(e).__name__}: {e}") from e
        if isinstance(out, dict):
            out = MappingProxyType(out)  # cached and shared: read-only
        memo[name] = out
        return out

    def clear_cache(self) -> None:
        """Forget every cached derivation."""
        with self._lock:
            self._memo.clear()

    # -- drawing -------------------------------------------------------------------------------------

    def to_dot(self, *, gif: Any = None, reduced: bool = True) -> str:
        """The graph in Graphviz DOT: the transitive reduction (``reduced``), nodes coloured by status;
        with ``gif``, lemmas that do not apply to that flow are drawn dashed and grey."""
        import networkx as nx
        g = self._graph
        h = nx.transitive_reduction(g) if reduced else g
        ok = set(self.applicable(gif)) if gif is not None else None
        lines = ["digraph lemmas {", '  graph [rankdir=TB, fontname="Helvetica", fontsize=11, nodesep=0.3];',
                 '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
                 '  edge [color="#555555", arrowsize=0.6, fontname="Helvetica", fontsize=9];']
        for status, colour in STATUS_COLOURS.items():
            lines.append(f"  // {status}: {colour}")
        for n in self._order:
            lem = self._lemmas[n]
            label = n + (r"\n[" + ", ".join(lem.assumptions) + "]" if lem.assumptions else "")
            colour = STATUS_COLOURS[self.status(n)]
            attrs = {"label": label, "fillcolor": colour, "tooltip": lem.title, "shape": KIND_SHAPES[lem.kind]}
            if ok is not None and n not in ok:
                attrs.update(fillcolor="#eeeeee", fontcolor="#888888", style="rounded,filled,dashed")
            lines.append(f"  {_q(n)} [" + ", ".join(f"{k}={_q(v)}" for k, v in attrs.items()) + "];")
        for u, v in sorted(h.edges):
            style = ' [style=dashed, label="any"]' if g.edges[u, v].get("relation") == "any_of" else ""
            lines.append(f"  {_q(u)} -> {_q(v)}{style};")
        lines.append("  subgraph cluster_legend {")
        lines.append('    label="status"; fontsize=10; style=dotted;')
        for status, colour in STATUS_COLOURS.items():
            lines.append(f'    {_q("legend " + status)} [label={_q(status)}, fillcolor={_q(colour)}];')
        lines.append("  }")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def draw(self, path: str | os.PathLike, *, gif: Any = None, reduced: bool = True) -> str:
        """Write the graph to ``path``: ``.dot`` as text, ``.svg`` / ``.png`` / ``.pdf`` through Graphviz's
        ``dot`` (atomically). Returns the path."""
        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lower()
        dot_text = self.to_dot(gif=gif, reduced=reduced)
        if ext in (".dot", ".gv"):
            write_atomic(path, dot_text)
            return path
        if ext not in (".svg", ".png", ".pdf"):
            raise GifsymError(f"cannot write {path!r}: unknown extension {ext or '(none)'!r}; "
                              "accepted: .dot, .svg, .png, .pdf")
        exe = shutil.which("dot")
        if exe is None:
            raise GifsymError("Graphviz's `dot` is not installed (Debian: apt-get install graphviz); "
                              "write .dot instead")
        with atomic_path(path) as tmp:
            try:
                proc = subprocess.run([exe, f"-T{ext[1:]}", "-o", tmp], input=dot_text.encode(),
                                      capture_output=True, timeout=120, check=False)
            except subprocess.TimeoutExpired:
                raise GifsymError("Graphviz `dot` took longer than 120 s") from None
            if proc.returncode != 0:
                msg = proc.stderr.decode(errors="replace").strip().splitlines()
                raise GifsymError(f"Graphviz `dot` failed: {msg[-1] if msg else proc.returncode}")
        return path


#: Fill colours of the statuses in drawings.
STATUS_COLOURS = {"derived": "#b7e4c7", "numerically checked": "#a9d6f5", "stated": "#f9e2a8"}
#: Node shapes of the kinds in drawings.
KIND_SHAPES = {"definition": "note", "lemma": "box", "proposition": "box", "theorem": "box3d"}


def _q(s: str) -> str:
    return '"' + str(s).replace("\\n", "\0").replace("\\", "\\\\").replace('"', r"\"").replace("\0", "\\n") + '"'
