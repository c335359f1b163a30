"""A real SEIKO run for the kill-and-resume test: ``python seiko_run.py OUT KILL_AT [CKPT]`` (or :func:`main`).

The oracle logs every evaluated row to ``OUT/calls.txt`` (appended, so several
processes add up); with ``KILL_AT > 0`` the process dies by ``os._exit(17)`` as
soon as that many labels are stored, i.e. right after an oracle answer and
before its round ends. The final ``state_dict`` and the last point of the
reward-versus-queries curve (:class:`SampleEvaluation` after the last round) go
to ``OUT/final.pt``.
"""

import os
import sys
from pathlib import Path

import lightning as L
import torch

from rewardsde import NetworkCorrection
from rewardsde.analytic import GaussianMixturePrior, ModeReward
from rewardsde.callbacks import SampleEvaluation
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.lightning_modules import SeikoModule
from rewardsde.rewards import Oracle, UCBReward

MODES = [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]]
ROUND_STEPS = 4


class LoggedOracle(Oracle):
    def __init__(self, out: Path, kill_at: int, **kwargs):
        super().__init__(**kwargs)
        self.out, self.kill_at = out, kill_at

    def ask(self, x):
        with open(self.out / "calls.txt", "a") as file:
            file.write(f"{len(x)}\n")
        return super().ask(x)

    def record(self, x, y, feasible):
        added = super().record(x, y, feasible)
        if self.kill_at and self.spent >= self.kill_at:
            os._exit(17)
        return added


def build(out: Path, kill_at: int = 0) -> SeikoModule:
    torch.manual_seed(0)
    oracle = LoggedOracle(out, kill_at, reward=ModeReward(MODES, [0.0, 1.0, 2.0], 1.0), budget=24, noise_std=0.1,
                          chunk_size=4, seed=1)
    return SeikoModule(
        GaussianMixturePrior([0.6, 0.3, 0.1], MODES, [0.4, 0.4, 0.4]), NetworkCorrection(hidden=8), oracle,
        UCBReward(heads=2, hidden=8, epochs=40, patience=10), round_sizes=[8, 8, 8], alpha=0.5, beta=0.5,
        backend="direct", method="euler", steps=5, drift_steps=2, value_steps=1, initial_steps=1,
        initial_hidden=8, initial_solver_steps=3, lr=0.01,
    )


def main(out: Path, kill_at: int, checkpoint: str | None) -> None:
    torch.set_num_threads(1)
    module = build(out, kill_at)
    saver = L.pytorch.callbacks.ModelCheckpoint(dirpath=out / "ckpt", every_n_train_steps=ROUND_STEPS, save_last=True)
    evaluation = SampleEvaluation(every_n_steps=ROUND_STEPS, samples=16, at_start=True)
    trainer = L.Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False, callbacks=[saver, evaluation],
        default_root_dir=out / ("resumed" if checkpoint else "run"),
    )
    trainer.fit(module, FineTuneDataModule(batch_size=8), ckpt_path=checkpoint, weights_only=True)
    torch.save({"state": module.state_dict(), "last": evaluation.reward_versus_queries()[-1]}, out / "final.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
