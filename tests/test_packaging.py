"""A plain (non-editable) install maps the three module folders under ``rewardsde``."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_installs_the_module_folders_under_rewardsde(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", str(ROOT),
         "--wheel-dir", str(tmp_path / "wheel")],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "wheel").glob("rewardsde-*.whl"))
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(tmp_path / "site"), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    probe = (
        "import rewardsde, rewardsde.lightning_modules, rewardsde.datamodules, rewardsde.callbacks;"
        "print(rewardsde.__file__)"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path / "site")}, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert str(tmp_path / "site") in result.stdout
