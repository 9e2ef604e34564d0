"""The lemma graph: the library as data, validation, requires/applicable/status, the restricted derive
mapping, the derived identities of math.md §4, and drawing."""

from __future__ import annotations

import shutil

import networkx as nx
import pytest
import sympy

from gifsym import GIF, lemmas, schedule, target
from gifsym.errors import AssumptionError, GifsymError, GraphError, LemmaError
from gifsym.symbolic import inventory
from gifsym.symbolic.flow import DA, DB, A, B, general_coefficients
from gifsym.theory.lemmas import KINDS, STATUS_COLOURS, STATUSES, Lemma, Registry

#: The names interface.md promises.
REQUIRED = ["velocity-identity", "tweedie", "jacobian-identity", "bound-slc", "bound-slcvx", "bound-ball",
            "bound-conv", "lipschitz", "well-posed", "flow-map-lipschitz", "reverse-flow-map-lipschitz",
            "source-stability", "velocity-stability", "auto-encoding", "cycle-consistency", "gaussian-sharpness"]

LIN = schedule("linear")


def flow(spec: str, sched=LIN) -> GIF:
    return GIF(sched, target(spec))


# ---------------------------------------------------------------------------------------------------------
# The library


def test_required_names_exist():
    names = set(lemmas.names())
    assert set(REQUIRED) <= names
    for n in REQUIRED:
        assert lemmas.get(n).name == n


def test_graph_is_a_valid_dag_with_computed_status():
    g = lemmas.graph()
    assert isinstance(g, nx.DiGraph) and nx.is_directed_acyclic_graph(g)
    assert set(g.nodes) == set(lemmas.names())
    for n, data in g.nodes(data=True):
        lem = data["lemma"]
        assert data["kind"] in KINDS and data["status"] in STATUSES
        assert lem.statement and lem.title
        assert "\\begin{" in lem.to_latex()
        for u in lem.uses + lem.any_of:
            assert g.has_edge(u, n)
    # The engine knows no lemma: the graph is exactly what the library declares.
    edges = {(u, lem.name) for lem in lemmas.registry() for u in lem.uses + lem.any_of}
    assert set(g.edges) == edges


def test_graph_returns_a_copy():
    g = lemmas.graph()
    g.remove_node("tweedie")
    assert "tweedie" in lemmas.graph()


def test_requires_is_the_union_over_ancestors():
    assert lemmas.requires("interpolation") == {"S-end"}
    assert lemmas.requires("bound-slc") == {"S-end", "S-mono", "S-pos", "T-slc"}
    assert lemmas.requires("bound-conv") == {"S-end", "S-mono", "S-pos", "T-conv"}
    assert lemmas.requires("flow-map-lipschitz") == {"S-end", "S-mono", "S-pos", "S-smooth"}
    assert lemmas.requires("gaussian-sharpness") >= {"T-gauss", "S-mono"}
    # By construction: a lemma's requirements contain those of everything it uses.
    for lem in lemmas.registry():
        req = lemmas.requires(lem.name)
        assert set(lem.assumptions) <= req
        for u in lem.uses:
            assert lemmas.requires(u) <= req


def test_alternatives_of_the_envelopes():
    alts = dict(lemmas.alternatives("jacobian-upper"))
    assert set(alts) == {"bound-slc", "bound-ball", "bound-conv"}
    assert "T-slc" in alts["bound-slc"]
    assert {a for a, _ in lemmas.alternatives("jacobian-lower")} == {"bound-psd", "bound-slcvx", "bound-conv"}


def test_status_is_computed_from_derivations_and_checks():
    assert lemmas.status("brascamp-lieb") == "stated"
    assert lemmas.status("interpolation") == "stated"
    assert lemmas.status("bound-slc") == "derived"
    check = lemmas.register_check("cramer-rao", lambda: True, description="test")
    try:
        assert lemmas.status("cramer-rao") == "numerically checked"
        assert lemmas.graph().nodes["cramer-rao"]["status"] == "numerically checked"
    finally:
        lemmas.unregister_check(check)
    assert lemmas.status("cramer-rao") == "stated"
    # A reference to a module that does not exist is not an available check.
    reg = Registry([Lemma("x", "lemma", "X", "x", checks=("gifsym_no_such_module:check",))])
    assert reg.status("x") == "stated"


def test_unknown_lemma_is_a_lemma_error_with_suggestions():
    with pytest.raises(LemmaError, match="bound-slc"):
        lemmas.get("bound-slcc")
    assert isinstance(LemmaError("x"), GifsymError)


# ---------------------------------------------------------------------------------------------------------
# Validation of a malformed library


def test_graph_error_lists_every_problem():
    bad = Registry([
        Lemma("a", "lemma", "A", "a", uses=("b",)),
        Lemma("b", "lemma", "B", "b", uses=("a",)),  # a cycle
        Lemma("c", "lemma", "C", "c", uses=("nosuch",)),  # unknown name
        Lemma("d", "conjecture", "D", "d"),  # unknown kind
        Lemma("e", "lemma", "E", "e", assumptions=("S-nosuch",)),  # unknown assumption id
        Lemma("f", "lemma", "F", "f", any_of=("f",)),  # uses itself
    ])
    with pytest.raises(GraphError) as err:
        bad.graph()
    msg = str(err.value)
    for needle in ("cycle", "'nosuch'", "'conjecture'", "'S-nosuch'", "'f' any_of itself"):
        assert needle in msg, msg
    assert len(bad.problems()) == 5


def test_duplicate_names_are_reported():
    reg = Registry([Lemma("a", "lemma", "A", "a"), Lemma("a", "lemma", "A2", "a")])
    assert any("duplicate" in p for p in reg.problems())


def test_library_validates_lazily():
    # Building a registry does no work; the graph is built (and validated) at first use.
    reg = Registry([Lemma("a", "lemma", "A", "a", uses=("missing",))])
    with pytest.raises(GraphError):
        reg.names()


# ---------------------------------------------------------------------------------------------------------
# Derive functions see only what they declare


def test_undeclared_dependency_fails():
    def sneaky(ctx, deps):
        return deps["tweedie"]  # not declared

    reg = lemmas.registry().extend(Lemma("sneaky", "lemma", "S", "s", uses=("velocity-identity",), derive=sneaky))
    with pytest.raises(LemmaError, match="does not declare"):
        reg.derive("sneaky", flow("slc:kappa=2"))

    def probing(ctx, deps):
        return "tweedie" in deps

    reg = lemmas.registry().extend(Lemma("probing", "lemma", "P", "p", uses=("velocity-identity",), derive=probing))
    with pytest.raises(LemmaError):
        reg.derive("probing", flow("slc:kappa=2"))

    def getter(ctx, deps):
        return deps.get("tweedie")

    reg = lemmas.registry().extend(Lemma("getter", "lemma", "G", "g", uses=("velocity-identity",), derive=getter))
    with pytest.raises(LemmaError):
        reg.derive("getter", flow("slc:kappa=2"))


def test_declared_dependency_is_visible_and_alternatives_may_be_missing():
    def honest(ctx, deps):
        return {"C": deps["jacobian-identity"]["C"], "alts": sorted(deps), "ball": deps.get("bound-ball")}

    reg = lemmas.registry().extend(Lemma("honest", "lemma", "H", "h", uses=("jacobian-identity",),
                                         any_of=("bound-slc", "bound-ball"), derive=honest))
    out = reg.derive("honest", flow("slc:kappa=2"))
    assert sympy.cancel(out["C"] - B * (A * DB - DA * B) / A**3) == 0
    assert out["alts"] == ["bound-slc", "jacobian-identity"] and out["ball"] is None

    def strict(ctx, deps):
        return deps["bound-ball"]

    reg = lemmas.registry().extend(Lemma("strict", "lemma", "S", "s", any_of=("bound-slc", "bound-ball"),
                                         derive=strict))
    with pytest.raises(AssumptionError, match="bound-ball"):
        reg.derive("strict", flow("slc:kappa=2"))


def test_a_failing_derive_names_its_lemma():
    def broken(ctx, deps):
        raise ZeroDivisionError("oops")

    reg = lemmas.registry().extend(Lemma("broken", "lemma", "B", "b", derive=broken))
    with pytest.raises(LemmaError, match="broken.*ZeroDivisionError"):
        reg.derive("broken", flow("slc:kappa=2"))


def test_extend_refuses_silent_replacement():
    with pytest.raises(GraphError, match="already exists"):
        lemmas.registry().extend(Lemma("tweedie", "lemma", "T", "t"))
    reg = lemmas.registry().extend(Lemma("tweedie", "lemma", "T", "t", assumptions=("S-end",)),
                                   replace_existing=True)
    assert reg.get("tweedie").title == "T"


# ---------------------------------------------------------------------------------------------------------
# Applicability


def test_applicable_follows_classes_and_implied_memberships():
    gauss = set(lemmas.applicable(flow("gaussian:sigma=0.5")))
    assert {"gaussian-classes", "bound-slc", "bound-slcvx", "bound-conv", "gaussian-sharpness",
            "flow-map-lipschitz", "reverse-flow-map-lipschitz", "auto-encoding"} <= gauss
    assert "bound-ball" not in gauss and "gmm-classes" not in gauss
    gmm = set(lemmas.applicable(GIF(LIN, inventory.exact_targets()["gmm-iso"])))
    assert {"gmm-classes", "bound-slcvx", "bound-conv", "lipschitz"} <= gmm and "bound-slc" not in gmm
    only_lower = set(lemmas.applicable(flow("slcvx:beta=4")))
    assert "jacobian-lower" in only_lower and "bound-slcvx" in only_lower
    assert not {"jacobian-upper", "lipschitz", "well-posed", "flow-map-lipschitz"} & only_lower
    ball = lemmas.applicable(flow("ball:R=1"))
    assert "bound-ball" in ball and "bound-slc" not in ball
    # Dependency order.
    order = lemmas.applicable(flow("gaussian:sigma=0.5"))
    assert order.index("tweedie") < order.index("jacobian-identity") < order.index("bound-slc")


def test_violated_schedule_assumptions_leave_only_schedule_free_results():
    bad = GIF(schedule(a="1 - t", b="t**2 - t/2"), target("slc:kappa=2"))
    ok = set(lemmas.applicable(bad))
    assert "jacobian-identity" not in ok and "bound-slc" not in ok
    assert {"brascamp-lieb", "velocity-stability"} <= ok
    with pytest.raises(AssumptionError, match="S-end"):
        lemmas.derive("bound-slc", bad)
    from gifsym.theory import bounds

    with pytest.raises(AssumptionError):
        bounds(bad)
    # Issue 9: an assumption the checker proved violated is never taken as given (assume only fills in
    # "unknown"), and asking for it is an error.
    assert "interpolation" not in lemmas.applicable(bad, assume=("S-end",))
    with pytest.raises(AssumptionError, match="violated"):
        bounds(bad, assume=("S-end",))


def test_velocity_stability_needs_no_flow():
    f = lemmas.derive("velocity-stability")
    assert set(f) >= {"gronwall", "cauchy_schwarz", "factor"}
    with pytest.raises(AssumptionError):
        lemmas.derive("bound-slc")


# ---------------------------------------------------------------------------------------------------------
# The derived identities (math.md §4), symbolically


def zero(e) -> bool:
    return sympy.simplify(e) == 0


def test_derived_identities_match_math_md():
    f = flow("slc:kappa=2")
    g = general_coefficients()
    ji = lemmas.derive("jacobian-identity", f)
    assert zero(ji["I"] - DA / A) and zero(ji["C"] - B * (A * DB - DA * B) / A**3)
    assert zero(ji["C"] - g.C)  # the same as the core's derivation
    tw = lemmas.derive("tweedie", f)
    assert zero(tw["score_x"] + 1 / A**2) and zero(tw["score_m"] - B / A**2) and zero(tw["grad_m"] - B / A**2)
    h = lemmas.derive("hessian-log-density", f)
    assert zero(h["I"] + 1 / A**2) and zero(h["C"] - B**2 / A**4)
    sf = lemmas.derive("score-form", f)
    assert zero(sf["x"] - DB / B) and zero(sf["score"] - (DB * A**2 / B - DA * A))
    pf = lemmas.derive("probability-flow", f)
    assert zero(pf["f"] + DB / B) and zero(pf["g2_half"] - A**2 * (DB / B - DA / A))
    cl = lemmas.derive("conditional-law", f)
    assert zero(cl["precision_shift"] - B**2 / A**2)
    sm = lemmas.derive("snr-monotone", f)
    assert zero(sm["dsnr"] - (A * DB - DA * B) / A**2)


@pytest.mark.parametrize("name", list(inventory.EXACT_TARGETS))
def test_implied_class_lemmas_agree_with_the_target(name):
    tgt = inventory.exact_targets()[name]
    lemma = "gaussian-classes" if "T-gauss" in tgt.class_ids() else "gmm-classes"
    out = lemmas.derive(lemma, GIF(LIN, tgt))
    for cls, value in out.items():
        ms = tgt.memberships(cls)
        assert ms, f"{lemma} derives {cls} but the target does not imply it"
        params = [v for _, v in ms[0].params]
        expected = sympy.Tuple(*params) if isinstance(value, sympy.Tuple) else params[0]
        assert abs(float(sympy.N(sympy.Matrix([value]) - sympy.Matrix([expected])).norm())) < 1e-12


def test_every_applicable_lemma_derives_for_a_gaussian_flow():
    f = flow("gaussian:sigma=0.5")
    for n in lemmas.applicable(f):
        lemmas.derive(n, f)  # no error
    assert lemmas.derive("gaussian-sharpness", f)["sharp"] is True


def test_derivations_are_cached_per_flow():
    f = flow("slc:kappa=3")
    assert lemmas.derive("bound-slc", f) is lemmas.derive("bound-slc", GIF(schedule("linear"), target("slc:kappa=3")))


# ---------------------------------------------------------------------------------------------------------
# Drawing


def test_dot_is_the_transitive_reduction_coloured_by_status():
    dot = lemmas.to_dot()
    for n in lemmas.names():
        assert f'"{n}"' in dot
    for colour in STATUS_COLOURS.values():
        assert colour in dot
    # jacobian-identity -> bound-slc is implied by jacobian-identity -> monotone-coefficient -> bound-slc.
    assert '"jacobian-identity" -> "bound-slc"' not in dot
    assert '"jacobian-identity" -> "bound-slc"' in lemmas.to_dot(reduced=False)
    greyed = lemmas.to_dot(gif=flow("ball:R=1"))
    assert "dashed" in greyed


def test_draw_dot_and_graphviz_formats(tmp_path):
    p = lemmas.draw(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text().startswith("digraph") and p.endswith("g.dot")
    with pytest.raises(GifsymError, match="extension"):
        lemmas.draw(tmp_path / "g.txt")
    if not shutil.which("dot"):
        pytest.skip("Graphviz not installed")
    for ext in ("svg", "png", "pdf"):
        out = tmp_path / f"g.{ext}"
        lemmas.draw(out)
        assert out.stat().st_size > 1000
    assert [f.name for f in tmp_path.iterdir() if ".tmp" in f.name] == []
