"""The API reference documents every public name, and nothing cites a file outside the repository."""

import importlib
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    "rewardsde": ("core", "rewardsde"),
    "rewardsde.rewards": ("rewards", "rewardsde.rewards"),
    "rewardsde.domains": ("domains", "rewardsde.domains"),
    "rewardsde.lightning_modules": ("lightning_modules", "lightning_modules"),
    "rewardsde.callbacks": ("callbacks", "callbacks"),
    "rewardsde.datamodules": ("datamodules", "datamodules"),
}


@pytest.mark.parametrize("module", sorted(PAGES))
def test_every_public_name_has_a_reference_entry(module):
    page, prefix = PAGES[module]
    text = (ROOT / "docs" / "api" / f"{page}.md").read_text()
    documented = {line.split()[1].rsplit(".", 1)[-1] for line in text.splitlines() if line.startswith("::: ")}
    assert set(importlib.import_module(module).__all__) <= documented
    assert all(line.split()[1].startswith(prefix + ".") for line in text.splitlines() if line.startswith("::: "))


def test_no_tracked_file_cites_the_methods_notes():
    files = subprocess.run(["git", "grep", "-l", "METHODS" + ".md"], cwd=ROOT, capture_output=True, text=True)
    assert files.stdout == ""
