"""Every module's docstring examples run (the numerics modules' own test files also run theirs)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import gifsym

MODULES = sorted(m.name for m in pkgutil.walk_packages(gifsym.__path__, "gifsym."))


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
