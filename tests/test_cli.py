"""The ``rewardsde`` command runs every config (``fast_dev_run``) and accepts overrides."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.tiny_pipelines import save_ddpm_pipeline, save_latent_pipeline
from tests.helpers.tiny_sequences import save_moses_model

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
BIN = Path(sys.executable).parent


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_config_runs_through_the_cli(config, tmp_path):
    """Each config runs in a fresh directory. The shipped Ehrlich model is copied there (as a fresh
    clone has it, and so that no run can write over the committed one); the other pipeline and
    sequence-model directories are tiny random stand-ins at the same paths."""
    shutil.copytree(ROOT / "pretrained" / "ehrlich", tmp_path / "pretrained" / "ehrlich")
    save_ddpm_pipeline(tmp_path / "pretrained" / "digits")
    save_latent_pipeline(tmp_path / "pretrained" / "stable-diffusion")
    save_moses_model(tmp_path / "pretrained" / "moses")
    result = _run([str(BIN / "rewardsde"), "fit", "--config", str(config), "--trainer.fast_dev_run=true"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]


def test_python_dash_m_and_overrides(tmp_path):
    config = ROOT / "configs" / "elegant_gaussian.yaml"
    result = _run(
        [sys.executable, "-m", "rewardsde", "fit", "--config", str(config), "--print_config",
         "--model.init_args.alpha=0.25", "--model.init_args.drift_steps=7"],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "alpha: 0.25" in result.stdout and "drift_steps: 7" in result.stdout


def test_bad_config_value_is_named(tmp_path):
    config = ROOT / "configs" / "elegant_gaussian.yaml"
    result = _run([str(BIN / "rewardsde"), "fit", "--config", str(config), "--model.init_args.alpha=-1",
                   "--trainer.fast_dev_run=true"], tmp_path)
    assert result.returncode != 0
    assert "alpha must be positive" in result.stderr


def test_baseline_config_trains_through_the_cli(tmp_path):
    """LightningCLI records the subclass's own init_args as hyperparameters; the no-KL
    module must still run on alpha = 0 and log its evaluation."""
    config = ROOT / "configs" / "no_kl_gmm.yaml"
    result = _run([str(BIN / "rewardsde"), "fit", "--config", str(config), "--model.init_args.drift_steps=2",
                   "--trainer.callbacks.init_args.every_n_steps=1", "--trainer.callbacks.init_args.samples=16"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]


def test_cli_checkpoint_resumes_with_weights_only(tmp_path):
    config = ROOT / "configs" / "elegant_gaussian.yaml"
    short = ["--model.init_args.drift_steps=3", "--model.init_args.value_steps=2", "--model.init_args.initial_steps=2",
             "--trainer.callbacks.init_args.samples=64"]
    first = _run([str(BIN / "rewardsde"), "fit", "--config", str(config), *short], tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    checkpoint = next((tmp_path / "lightning_logs" / "elegant_gaussian").glob("version_0/checkpoints/*.ckpt"))
    longer = [*short[:2], "--model.init_args.initial_steps=4", short[3]]
    resumed = _run([str(BIN / "rewardsde"), "fit", "--config", str(config), *longer, "--ckpt_path", str(checkpoint),
                    "--weights_only=true"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
