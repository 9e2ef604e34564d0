"""Every target class is one object (gifsym.symbolic.classes) and every part of gifsym reads it: the spec
parser, the lemma library, the LaTeX statements, the inventory and the oracle members. Parametrized over
CLASSES, so a new class is tested here as soon as it exists."""

from __future__ import annotations

import math

import pytest
import sympy

from gifsym import schedule, t, target
from gifsym.numerics.oracle import member
from gifsym.output.latex import ASSUMPTION_STATEMENTS
from gifsym.symbolic import inventory
from gifsym.symbolic.classes import (
    BOUNDED_SUPPORT,
    CLASSES,
    BoundLemma,
    CovarianceBound,
    Parameter,
    TargetClass,
)
from gifsym.symbolic.flow import DA, DB, A, B, Flow
from gifsym.symbolic.target import Membership, Target
from gifsym.theory import bounds, lemmas
from gifsym.theory.engine import ASSUMPTION_IDS, Registry
from gifsym.theory.library import build_lemmas

IDS = [c.spec for c in CLASSES]


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_the_spec_parser_reads_the_class(cls):
    t = target(cls.example)
    assert [m.id for m in t.declared] == [cls.id]
    bare = target(cls.spec + ":" + ",".join(p.name for p in cls.parameters))
    for p in cls.parameters:  # a parameter without a value is the class's symbol
        assert bare.declared[0][p.name] == p.symbol


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_the_library_derives_the_class_bound(cls):
    reg = lemmas.registry()
    lem = reg.get(cls.lemma.name)
    assert lem.assumptions == (cls.id,) and lem.derive is not None
    assert {b.inequality.name for b in cls.bounds} <= set(lem.uses)
    for side in cls.sides:
        assert cls.lemma.name in reg.get(f"jacobian-{side}").any_of
    pieces = reg.derive(cls.lemma.name, Flow(schedule("linear"), target(cls.example)))
    assert {p.side for p in pieces} == cls.sides


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_reports_inventory_and_members_use_the_class(cls):
    assert ASSUMPTION_STATEMENTS[cls.id] == cls.statement
    assert inventory.CLASS_TARGETS[cls.spec] == cls.example
    law = member(target(cls.example), dim=2).law
    params = dict(target(cls.example).declared[0].params)
    # The member satisfies the class: its potential's Hessian bounds or its support, as declared.
    if cls.id == "T-slc":
        assert law.kappa >= float(params["kappa"])
    elif cls.id == "T-slcvx":
        assert law.beta <= float(params["beta"])
    elif cls.id == "T-ball":
        assert law.radius * math.sqrt(2) <= float(params["R"]) * (1 + 1e-15)
    elif cls.id == "T-conv":  # N(0, σ²) * ½(δ_{−r} + δ_r): log-cosh with α = 1/σ², ω = r/σ²
        sigma, R = float(params["sigma"]), float(params["R"])
        assert law.alpha == pytest.approx(1 / sigma**2, rel=1e-15)
        assert law.omega * sigma**2 * math.sqrt(2) <= R * (1 + 1e-15)


def test_a_new_class_is_one_object():
    # Conditional variance at most s² I (through the ball inequality with R = s): one object, and the
    # library, the registry and the bounds take it from there.
    s = sympy.Symbol("s", positive=True)
    mine = TargetClass(
        "T-mine", "mine", "variance at most s^2", (Parameter("s", (("positive", True),)),),
        r"$\mathrm{Cov}(X_1 \mid X_t) \preceq s^2 I$", (CovarianceBound(BOUNDED_SUPPORT, s),),
        BoundLemma("bound-mine", "Upper bound from a variance bound", r"$\nabla_x v \preceq \dots$"),
        "mine:s=1", "gifsym.numerics.oracle:ball_member",
    )
    reg = Registry(build_lemmas(CLASSES + (mine,)), assumption_ids=ASSUMPTION_IDS | {"T-mine"})
    reg.validate()
    assert reg.requires("bound-mine") == {"S-end", "S-mono", "S-pos", "T-mine"}
    assert "bound-mine" in reg.get("jacobian-upper").any_of
    two = Target("mine:s=2", None, (Membership("T-mine", (("s", sympy.Integer(2)),)),))
    got = bounds(Flow(schedule("trigonometric"), two), registry=reg).upper
    # math.md §5 with R = 2: ȧ/a + b(aḃ − ȧb) R²/a³, for the trigonometric schedule.
    s_ = schedule("trigonometric")
    want = (DA / A + B * (A * DB - DA * B) * 4 / A**3).subs({A: s_.a, DA: s_.da, B: s_.b, DB: s_.db})
    for x in (0.1, 0.5, 0.9):  # both are rational in cos and sin of πt/2: agreement to round-off
        assert float(got.subs(t, x)) == pytest.approx(float(want.subs(t, x)), rel=1e-12)
