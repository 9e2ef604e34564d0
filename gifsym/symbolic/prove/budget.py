"""The prover's budgets: grid size, digits of a confirmed counterexample, interval boxes, nesting."""

from __future__ import annotations

from fractions import Fraction

import mpmath

#: The three verdicts: proved, disproved by a confirmed counterexample, or neither.
STATUSES = ("holds", "violated", "unknown")
#: Relations :func:`prove_relation` understands (``expr R 0`` on the interval).
RELATIONS = (">", ">=", "<", "<=", "finite")
#: Relations :func:`prove_value` understands (``value_of_expr R value``).
VALUE_RELATIONS = ("==", ">", ">=", "<", "<=")

GRID = 1000  # the screening grid has GRID + 1 points (ends included where closed)
DIGITS = 50  # digits used to confirm a counterexample
VIOLATION_RTOL = mpmath.mpf("1e-30")  # a violation must exceed this, relative to the expression's scale
MAX_BOXES = 1000  # interval-arithmetic boxes per proof
MIN_WIDTH = Fraction(1, 2**32)  # relative to the interval length
MAX_ORDER = 3  # highest derivative used by the monotonicity argument at an end
MAX_DEPTH = 6  # nesting of definedness conditions (conditions of conditions ...)
MAX_SYMBOLIC_OPS = 150  # larger expressions are not handed to SymPy's (slow) sign reasoning
PROOF_SECONDS = 60.0  # wall-clock budget of one top-level proof (prove_relation / prove_value)
PROOF_MEMORY = 500 * 2**20  # growth of resident memory allowed to one proof, in bytes
SYMPY_SECONDS = 3.0  # budget of SymPy's sign reasoning inside a proof
# CPU seconds all the proofs (and cosmetic simplifications) about one schedule a caller wrote (--a/--b) take
# together, per process: an oscillating a_t (cos(t**-100)) sends each of some twenty proofs to its own budget
# otherwise (30 s in all). Once spent, the rest are 'unknown' ("the proof ran out of time"). Catalogue
# schedules' proofs are not drawn from it (their verdicts are fixed and cached).
CALLER_PROOF_SECONDS = 3.0
