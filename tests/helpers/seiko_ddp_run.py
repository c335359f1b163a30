"""A real two-rank SEIKO run for the DDP kill-and-resume test: ``python seiko_ddp_run.py OUT KILL [CKPT]``.

Both ranks log every row their oracle evaluates to ``OUT/calls.txt``. With ``KILL=1`` rank 1 dies by
``os._exit(17)`` right after it has stored its own answers of the second round, before the gather, once
rank 0 has stored its own (so the crash falls exactly in the window between the answers and the gather);
``torch.multiprocessing`` then ends rank 0 and the run fails. Checkpoints are written at the end of each
round; rank 0 saves the final reward model and the correction to ``OUT/final.pt``.
"""

import os
import sys
import time
from pathlib import Path

import lightning as L
import torch

from rewardsde import NetworkCorrection
from rewardsde.analytic import GaussianMixturePrior, ModeReward
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.lightning_modules import SeikoModule
from rewardsde.rewards import LabelStore, Oracle, UCBReward

MODES = [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]]
ROUND = 4  # labels per rank and round


class LoggedOracle(Oracle):
    def __init__(self, out, **kwargs):
        super().__init__(**kwargs)
        self.out = out

    def ask(self, x):
        with open(Path(self.out) / "calls.txt", "a") as file:
            file.write(f"{len(x)}\n")
        return super().ask(x)


class DiesAfterItsAnswers(LabelStore):
    """Rank 1's own file: exit once it holds two rounds of answers and rank 0's file does too."""

    def __init__(self, path, other, **kwargs):
        super().__init__(path, **kwargs)
        self.other = other

    def add(self, x, y, feasible=None):
        added = super().add(x, y, feasible)
        if len(self) >= 2 * ROUND:
            deadline = time.time() + 120
            while time.time() < deadline and len(self.other.read_text().splitlines()) < 2 * ROUND:
                time.sleep(0.1)
            os._exit(17)
        return added


class Module(SeikoModule):
    def __init__(self, *args, kill=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.kill = kill

    def _answer_store(self, path):
        if self.kill and self.trainer.global_rank == 1:
            return DiesAfterItsAnswers(path, Path(str(path).replace("rank1", "rank0")), write=True)
        return super()._answer_store(path)


class SaveFinal(L.Callback):
    def __init__(self, out):
        self.out = out

    def on_train_end(self, trainer, module):
        if trainer.is_global_zero:
            state = {"reward": module.reward.state_dict(), "correction": module.controlled.correction.state_dict()}
            torch.save(state, Path(self.out) / "final.pt")


def main(out: Path, kill: bool, checkpoint: str | None) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    module = Module(
        GaussianMixturePrior([0.6, 0.3, 0.1], MODES, [0.4, 0.4, 0.4]), NetworkCorrection(hidden=8),
        LoggedOracle(str(out), reward=ModeReward(MODES, [0.0, 1.0, 2.0], 1.0), budget=24, noise_std=0.1),
        UCBReward(heads=2, hidden=8, epochs=20, patience=5), round_sizes=[8, 8, 8], alpha=0.5, beta=0.5,
        backend="direct", method="euler", steps=4, drift_steps=2, learn_initial=False,
        label_store=str(out / "labels.jsonl"), kill=kill,
    )
    saver = L.pytorch.callbacks.ModelCheckpoint(dirpath=out / "ckpt", every_n_train_steps=2, save_last=True)
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy="ddp_spawn", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[saver, SaveFinal(str(out))], default_root_dir=out)
    trainer.fit(module, FineTuneDataModule(batch_size=4), ckpt_path=checkpoint, weights_only=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] == "1", sys.argv[3] if len(sys.argv) > 3 else None)
