"""Reward-model fits are tiny problems: every test here runs on one thread."""

import pytest


@pytest.fixture(autouse=True)
def _single_thread(one_thread):
    yield
