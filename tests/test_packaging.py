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


def test_built_wheel_runs_a_packaged_config_in_a_clean_venv(tmp_path):
    """``python -m build`` gives a wheel and an sdist that ``twine check`` passes; the wheel,
    installed without dependencies into a new virtual environment that borrows this one's
    packages through a .pth file (no downloads), runs a packaged config from another folder."""
    build = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--skip-dependency-check", "--outdir", str(tmp_path / "dist"), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("rewardsde-*.whl"))
    sdist = next((tmp_path / "dist").glob("rewardsde-*.tar.gz"))
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    here = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", site, str(wheel)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    Path(site, "borrowed.pth").write_text(here + "\n")
    rewardsde = venv / "bin" / "rewardsde"
    rewardsde.write_text(f"#!{python}\nfrom rewardsde.cli import main\nmain()\n")
    rewardsde.chmod(0o755)
    run = tmp_path / "run"
    run.mkdir()
    config = subprocess.run([str(rewardsde), "config-path", "elegant_gaussian"], cwd=run, capture_output=True,
                            text=True, timeout=300)
    assert config.returncode == 0, config.stderr[-2000:]
    assert Path(config.stdout.strip()).is_relative_to(site)
    fit = subprocess.run([str(rewardsde), "fit", "--config", config.stdout.strip(), "--trainer.fast_dev_run=true"],
                         cwd=run, capture_output=True, text=True, timeout=300)
    assert fit.returncode == 0, fit.stderr[-3000:]
