"""The ``rewardsde`` command runs every config (``fast_dev_run``) and accepts overrides."""

import json
import os
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


# Configs whose set-up (labels, a sample pool) would take minutes even for one step run it smaller; on the
# molecule configs the evaluation callback (their only one) also draws 64 samples instead of 256.
SHORT = {"elegant_ehrlich": ["--model.init_args.reward.init_args.train_size=256", "--model.init_args.pool=256"],
         "seiko_ehrlich": ["--model.init_args.pool=256", "--model.init_args.round_sizes=[64,64,128]",
                           "--model.init_args.neighbours=256"],
         "elegant_moses": ["--model.init_args.reward.init_args.train_size=256", "--model.init_args.pool=256",
                           "--trainer.callbacks.init_args.samples=64"],
         "seiko_moses": ["--model.init_args.pool=256", "--model.init_args.round_sizes=[64,64,128]",
                         "--trainer.callbacks.init_args.samples=64"]}


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_config_runs_through_the_cli(config, tmp_path):
    """Each config runs in a fresh directory. The shipped Ehrlich and MOSES models are copied there (as a
    fresh clone has them, and so that no run can write over the committed ones); the image pipelines are
    tiny random stand-ins at the same paths."""
    shutil.copytree(ROOT / "pretrained" / "ehrlich", tmp_path / "pretrained" / "ehrlich")
    shutil.copytree(ROOT / "pretrained" / "moses", tmp_path / "pretrained" / "moses")
    save_ddpm_pipeline(tmp_path / "pretrained" / "digits")
    save_latent_pipeline(tmp_path / "pretrained" / "stable-diffusion")
    short = SHORT.get(config.stem, [])
    result = _run([str(BIN / "rewardsde"), "fit", "--config", str(config), "--trainer.fast_dev_run=true", *short],
                  tmp_path)
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


WRONG_SHAPE_REWARD = """
import torch


class WrongShape(torch.nn.Module):
    def forward(self, x):
        return x.sum(-1, keepdim=True)
"""


def _fails_in_one_line(result: subprocess.CompletedProcess, *names: str) -> str:
    """Exit status 2, no traceback, an ``error:`` block of at most 5 lines naming ``names``."""
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    block = lines[next(i for i, line in enumerate(lines) if line.startswith("error: ")):]
    assert len(block) <= 5, result.stderr
    for name in names:
        assert name in block[0], block[0]
    return "\n".join(block)


def test_alpha_below_zero_is_one_line(tmp_path):
    config = ROOT / "configs" / "elegant_gaussian.yaml"
    result = _run([str(BIN / "rewardsde"), "fit", "--config", str(config), "--model.init_args.alpha=-1",
                   "--trainer.fast_dev_run=true"], tmp_path)
    block = _fails_in_one_line(result, "alpha must be positive", "-1")
    assert "ElegantModule" in block and "elegant_gaussian.yaml" in block
    assert len(result.stderr.strip().splitlines()) <= 5, result.stderr


def test_debug_shows_the_traceback(tmp_path):
    config = ROOT / "configs" / "elegant_gaussian.yaml"
    result = _run([str(BIN / "rewardsde"), "fit", "--config", str(config), "--model.init_args.alpha=-1", "--debug"],
                  tmp_path)
    assert result.returncode not in (0, 2)
    assert "Traceback" in result.stderr and "alpha must be positive" in result.stderr


def test_unknown_backend_is_one_line(tmp_path):
    config = ROOT / "configs" / "elegant_gaussian.yaml"
    result = _run([str(BIN / "rewardsde"), "fit", "--config", str(config), "--model.init_args.backend=nonsense"],
                  tmp_path)
    _fails_in_one_line(result, "unknown backend 'nonsense'")


def test_missing_pretrained_directory_names_the_command_that_creates_it(tmp_path):
    config = ROOT / "configs" / "elegant_digits.yaml"
    result = _run([str(BIN / "rewardsde"), "fit", "--config", str(config),
                   "--model.init_args.sde.init_args.path=pretrained/digits"], tmp_path)
    _fails_in_one_line(result, "'pretrained/digits' does not exist",
                       "rewardsde fit --config configs/pretrain_digits.yaml")
    elsewhere = _run([str(BIN / "rewardsde"), "fit", "--config", str(config),
                      "--model.init_args.sde.init_args.path=nowhere"], tmp_path)
    _fails_in_one_line(elsewhere, "'nowhere' does not exist")


def test_reward_of_the_wrong_shape_is_one_line(tmp_path):
    (tmp_path / "wrong_reward.py").write_text(WRONG_SHAPE_REWARD)
    config = ROOT / "configs" / "elegant_gaussian.yaml"
    result = subprocess.run(
        [str(BIN / "rewardsde"), "fit", "--config", str(config), "--model.init_args.reward=wrong_reward.WrongShape",
         "--trainer.fast_dev_run=true"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    block = _fails_in_one_line(result, "WrongShape", "shape")
    assert "during fit" in block


def test_budget_below_the_first_round_is_one_line(tmp_path):
    config = ROOT / "configs" / "seiko_analytic.yaml"
    result = _run([str(BIN / "rewardsde"), "fit", "--config", str(config),
                   "--model.init_args.oracle.init_args.budget=32"], tmp_path)
    _fails_in_one_line(result, "budget (32) is smaller than the first round (64 queries)")


def test_checkpoint_of_another_method_is_one_line(tmp_path):
    no_kl = _run([str(BIN / "rewardsde"), "fit", "--config", str(ROOT / "configs" / "no_kl_gmm.yaml"),
                  "--model.init_args.drift_steps=1", "--trainer.callbacks.init_args.samples=16"], tmp_path)
    assert no_kl.returncode == 0, no_kl.stderr[-3000:]
    checkpoint = next((tmp_path / "lightning_logs" / "no_kl_gmm").glob("version_0/checkpoints/*.ckpt"))
    result = _run([str(BIN / "rewardsde"), "fit", "--config", str(ROOT / "configs" / "elegant_gaussian.yaml"),
                   "--ckpt_path", str(checkpoint), "--weights_only=true"], tmp_path)
    _fails_in_one_line(result, "written by NoKLModule, not ElegantModule")


def test_parse_errors_stay_jsonargparse_s(tmp_path):
    config = ROOT / "configs" / "elegant_gaussian.yaml"
    result = _run([str(BIN / "rewardsde"), "fit", "--config", str(config), "--model.init_args.no_such_key=1"],
                  tmp_path)
    assert result.returncode == 2
    assert "no_such_key" in result.stderr and not result.stderr.startswith("error: ")


def test_config_path_gives_the_packaged_configs(tmp_path):
    names = _run([str(BIN / "rewardsde"), "config-path"], tmp_path)
    assert names.returncode == 0 and names.stdout.split() == [c.stem for c in CONFIGS]
    path = _run([str(BIN / "rewardsde"), "config-path", "elegant_gaussian"], tmp_path)
    assert Path(path.stdout.strip()).read_text() == (ROOT / "configs" / "elegant_gaussian.yaml").read_text()
    unknown = _run([str(BIN / "rewardsde"), "config-path", "nothing"], tmp_path)
    assert unknown.returncode == 2 and "elegant_gaussian" in unknown.stderr


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


def test_a_correction_of_another_shape_than_the_pretrained_model_is_one_line(tmp_path):
    save_moses_model(tmp_path / "pretrained" / "moses")  # 27 SELFIES states, length 47
    config = ROOT / "configs" / "seiko_moses.yaml"
    network = "--model.init_args.correction.init_args.network"
    result = _run([str(BIN / "rewardsde"), "fit", "--config", str(config),
                   "--model.init_args.correction=rewardsde.NetworkCorrection", f"{network}=rewardsde.domains.SequenceEps",
                   f"{network}.init_args.num_states=32", f"{network}.init_args.length=47"], tmp_path)
    block = _fails_in_one_line(result, "takes sequences of 32 states and length 47",
                               "the SDE's samples have 27 states and length 47")
    assert "while building" in block and "SeikoModule" in block


def test_a_label_store_of_another_instance_is_one_line(tmp_path):
    """The store was written for another seed of the shipped model's Ehrlich instance: its labels are wrong here."""
    from rewardsde.domains import GenuineReward

    model = ROOT / "pretrained" / "ehrlich"
    here = GenuineReward(str(model)).fingerprint
    seed = here["instance"]["random_seed"]
    other = {**here, "instance": {**here["instance"], "random_seed": seed + 1}}
    (tmp_path / "labels.jsonl").write_text(json.dumps({"fingerprint": other}) + "\n")
    config = ROOT / "configs" / "seiko_ehrlich.yaml"
    result = _run([str(BIN / "rewardsde"), "fit", "--config", str(config),
                   f"--model.init_args.sde.init_args.path={model}", "--model.init_args.label_store=labels.jsonl",
                   "--trainer.fast_dev_run=true"], tmp_path)
    _fails_in_one_line(result, "labels.jsonl holds labels of another instance",
                       f"instance.random_seed={seed + 1}", f"instance.random_seed={seed}")


def test_a_lab_run_stops_takes_the_labels_and_resumes_with_the_same_command(tmp_path):
    fit = [str(BIN / "rewardsde"), "fit", "--config", str(ROOT / "configs" / "seiko_lab.yaml"),
           "--model.init_args.drift_steps=2", "--model.init_args.pool=256", "--trainer.callbacks.init_args.samples=16",
           "--trainer.callbacks.init_args.every_n_steps=2"]
    first = _run(fit, tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "round 0: 32 designs wait for labels" in first.stderr + first.stdout
    lab = tmp_path / "lab" / "seiko_explore"
    ids = [line.split(",")[0] for line in (lab / "queries" / "round_0.csv").read_text().splitlines()[1:]]
    assert len(ids) == 32 and (lab / "state.ckpt").is_file()
    (tmp_path / "bad.csv").write_text(f"id,label\n{ids[0]},0.5\n{ids[1]},high\n")
    bad = _run([str(BIN / "rewardsde"), "seiko", "import-labels", str(lab), "bad.csv"], tmp_path)
    assert bad.returncode == 2 and "bad.csv:3: label 'high'" in bad.stderr and not (lab / "labels.jsonl").exists()
    (tmp_path / "labels.csv").write_text("id,label\n" + "".join(f"{i},{0.1 * k}\n" for k, i in enumerate(ids[1:]))
                                         + f"{ids[0]},failed\n")
    imported = _run([str(BIN / "rewardsde"), "seiko", "import-labels", str(lab), "labels.csv"], tmp_path)
    assert imported.returncode == 0 and "stored 31 labels and 1 failed designs" in imported.stdout
    second = _run(fit, tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resuming the lab run" in second.stderr and "round 1: 32 designs wait" in second.stderr + second.stdout
    assert len((lab / "sent.jsonl").read_text().splitlines()) == 64
