"""The output layer: LaTeX, reports and plots."""
