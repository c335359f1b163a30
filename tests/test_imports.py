"""The public surface: what ``import rewardsde`` costs and what each ``__all__`` declares."""

import importlib
import subprocess
import sys

import pytest

import rewardsde

HEAVY = ("diffusers", "peft", "transformers", "lightning")
PACKAGES = (
    "rewardsde",
    "rewardsde.analytic",
    "rewardsde.images",
    "rewardsde.rewards",
    "rewardsde.rewards.models",
    "rewardsde.domains",
    "rewardsde.callbacks",
    "rewardsde.datamodules",
    "rewardsde.lightning_modules",
)


@pytest.mark.parametrize("package", ["rewardsde", "rewardsde.analytic", "rewardsde.rewards", "rewardsde.images"])
def test_core_import_leaves_the_heavy_libraries_unimported(package):
    probe = f"import sys, {package}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == []


def test_the_top_level_api_is_small():
    assert len(rewardsde.__all__) <= 40
    assert len(set(rewardsde.__all__)) == len(rewardsde.__all__)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_declared_name_resolves(package):
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []
    assert sorted(module.__all__) == sorted(set(module.__all__))


def test_brownian_prior_is_one_class_in_the_core_and_in_analytic():
    import rewardsde.analytic

    assert rewardsde.analytic.BrownianPrior is rewardsde.BrownianPrior
