"""Shared fixtures: every test that takes ``any_schedule``, ``exact_target`` or ``class_target`` runs over
the one inventory in :mod:`gifsym.symbolic.inventory`, so a new schedule or target is tested everywhere at once."""

from __future__ import annotations

import os

import pytest

# No test may depend on results an earlier run left on disk (gifsym.store): the on-disk cache is off unless
# a test turns it on for a folder of its own.
os.environ["GIFSYM_CACHE"] = "off"

from gifsym.symbolic import inventory


@pytest.fixture(params=inventory.schedule_ids())
def any_schedule(request):
    return dict(zip(inventory.schedule_ids(), inventory.schedules()))[request.param]


@pytest.fixture(params=list(inventory.EXACT_TARGETS))
def exact_target(request):
    return inventory.exact_targets()[request.param]


@pytest.fixture(params=list(inventory.CLASS_TARGETS))
def class_target(request):
    return inventory.class_targets()[request.param]
