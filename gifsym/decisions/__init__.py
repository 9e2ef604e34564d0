"""Decisions: capabilities that combine the theory and the numerics to choose something for the user.

:mod:`gifsym.decisions.plan` plans a sampler's steps and grid (``gifsym.plan``), :mod:`gifsym.decisions.design`
designs a schedule for a target (``gifsym.design``). This layer sits above :mod:`gifsym.numerics` and below the
facade (:mod:`gifsym.gif`) and the CLI; importing it does no work.
"""
