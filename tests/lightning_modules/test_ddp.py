"""Two CPU processes (gloo) train exactly like one process on the union of their batches.

torchsde calls the SDE's ``f`` directly rather than through the DDP wrapper; these
tests show that gradients still synchronise (ddpo-pytorch #10 and torchdiffeq #119
describe the silent failure this guards against).
"""

import subprocess
import sys
from pathlib import Path

import lightning as L
import torch

from rewardsde import NetworkCorrection
from rewardsde.analytic import BrownianPrior, LinearReward
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.objective import Loss
from rewardsde.lightning_modules import ElegantModule

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = dict(alpha=1.0, steps=5, drift_steps=3, value_steps=2, initial_steps=2, initial_solver_steps=4)


class SaveParameters(L.Callback):
    def __init__(self, directory: Path):
        self.directory = directory

    def on_train_end(self, trainer, module):
        torch.save(module.state_dict(), self.directory / f"rank{trainer.global_rank}.pt")


class UnionOfRanks(ElegantModule):
    """One process that takes both ranks' noise each step and averages their losses,
    which is what DDP's gradient averaging computes."""

    fake_rank = 0

    def _noise_rank(self) -> int:
        return self.fake_rank

    def phase_loss(self, span, n):
        losses = []
        for rank in (0, 1):
            self.fake_rank = rank
            losses.append(ElegantModule.phase_loss(self, span, n))
        return Loss(sum(loss.value for loss in losses) / 2, losses[0].logs)


def _module(cls=ElegantModule):
    torch.manual_seed(0)
    return cls(BrownianPrior(2), NetworkCorrection(hidden=8), LinearReward([1.0, 0.5]), **SETTINGS)


def _trainer(**kwargs):
    return L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False, **kwargs)


def test_two_ranks_end_identical_and_equal_to_one_process_on_the_union(tmp_path):
    _trainer(devices=2, strategy="ddp_spawn", callbacks=[SaveParameters(tmp_path)]).fit(
        _module(), FineTuneDataModule(batch_size=8)
    )
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    union = _module(UnionOfRanks)
    _trainer().fit(union, FineTuneDataModule(batch_size=8))
    initial = _module().state_dict()
    for name, value in union.state_dict().items():
        assert torch.equal(rank0[name], rank1[name]), name
        assert torch.allclose(rank0[name], value, atol=1e-5, rtol=1e-4), name
    moved = [name for name in initial if not torch.equal(initial[name], union.state_dict()[name])]
    assert any(n.startswith("sampler.controlled.correction") for n in moved) and any("value" in n for n in moved) and any("auxiliary" in n for n in moved)


def test_cli_runs_with_plain_ddp_on_two_cpu_processes(tmp_path):
    command = [
        str(Path(sys.executable).parent / "rewardsde"), "fit", "--config", str(ROOT / "configs" / "elegant_gaussian.yaml"),
        "--trainer.devices=2", "--trainer.accelerator=cpu", "--trainer.strategy=ddp",
        "--model.init_args.drift_steps=3", "--model.init_args.value_steps=2", "--model.init_args.initial_steps=2",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert list((tmp_path / "lightning_logs" / "elegant_gaussian").glob("version_*/events.out.tfevents.*"))
