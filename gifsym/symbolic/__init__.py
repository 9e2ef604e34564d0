"""The symbolic layer: expressions, proofs, schedules, targets and the exact objects of a flow (SymPy)."""
