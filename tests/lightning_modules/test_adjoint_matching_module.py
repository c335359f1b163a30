"""AdjointMatchingModule: trains through the shared plumbing and warns on a reference that remembers its start."""

import lightning as L
import pytest
import torch

from rewardsde import NetworkCorrection
from rewardsde.analytic import BrownianPrior, GaussianMixturePrior, LinearReward
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.lightning_modules import AdjointMatchingModule


def _fit(prior, tmp_path) -> tuple[AdjointMatchingModule, L.Trainer]:
    torch.manual_seed(0)
    module = AdjointMatchingModule(prior, NetworkCorrection(hidden=8), LinearReward([1.0, 0.0]), alpha=1.0, steps=20,
                                   drift_steps=3)
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(module, FineTuneDataModule(batch_size=8))
    return module, trainer


def test_trains_its_drift_phase_and_stops(tmp_path, recwarn):
    prior = GaussianMixturePrior([0.5, 0.5], [[-1.5, 0.0], [1.5, 0.0]], [0.5, 0.5])
    module, trainer = _fit(prior, tmp_path)
    assert trainer.global_step == module.total_steps == 3
    for key in ("train/loss_drift", "train/reward", "train/kl_running"):
        assert torch.isfinite(trainer.callback_metrics[key]), key
    assert not [w for w in recwarn if "remembers its start" in str(w.message)]


def test_a_reference_that_remembers_its_start_is_warned_about(tmp_path):
    with pytest.warns(UserWarning, match=r"remembers its start \(end sensitivity 1.00 > 0.1\)"):
        _fit(BrownianPrior(2), tmp_path)
