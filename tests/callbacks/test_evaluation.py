"""SampleEvaluation writes the documented tags, read back with TensorBoard's own reader."""

import math

import lightning as L
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn

from rewardsde import NetworkCorrection, PretrainedSDE
from rewardsde.analytic import BrownianPrior, GaussianMixturePrior, LinearReward
from rewardsde.callbacks import SampleEvaluation
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.lightning_modules import ElegantModule, NoKLModule

SCALARS = [
    "reward/learned", "reward/non_finite", "reward/genuine", "reward/gap", "reward/spearman", "reward/collapse",
    "reward/non_finite_genuine", "diversity/mean_distance", "diversity/vendi", "kl/total", "kl/total_stderr",
    "kl/running", "kl/initial", "kl/non_finite",
    "target/mean_error", "target/sliced_wasserstein", "target/sliced_wasserstein_floor", "target/weight_tv",
]


def _fit(module, tmp_path, callback):
    logger = L.pytorch.loggers.TensorBoardLogger(tmp_path, name="run")
    trainer = L.Trainer(accelerator="cpu", logger=logger, callbacks=[callback], enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, max_epochs=-1)
    trainer.fit(module, FineTuneDataModule(batch_size=16))
    events = EventAccumulator(str(tmp_path / "run" / "version_0"), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def test_documented_tags_are_written_with_finite_values(tmp_path):
    torch.manual_seed(0)
    prior = GaussianMixturePrior([0.5, 0.5], [[-1.5, 0.0], [1.5, 0.0]], [0.5, 0.5])
    module = ElegantModule(prior, NetworkCorrection(hidden=8), LinearReward([1.0, 0.0]), alpha=1.0, steps=5,
                           drift_steps=4, value_steps=2, initial_steps=2, initial_solver_steps=4)
    callback = SampleEvaluation(every_n_steps=3, samples=64, genuine=LinearReward([1.0, 1.0]))
    events = _fit(module, tmp_path, callback)
    tags = events.Tags()
    for tag in SCALARS:
        assert tag in tags["scalars"], tag
        assert all(math.isfinite(event.value) for event in events.Scalars(tag)), tag
    assert [event.step for event in events.Scalars("kl/total")] == [3, 6, 8]
    assert "reward/learned" in tags["histograms"]
    assert {"samples/target", "plots/reward_vs_kl"} <= set(tags["images"])


def test_reward_collapse_is_flagged_once(tmp_path):
    """Reward backprop without KL on r(x) = x while the genuine reward is -x: every
    evaluation the learned reward rises and the genuine one falls."""
    torch.manual_seed(0)
    module = NoKLModule(BrownianPrior(1), NetworkCorrection(hidden=8), LinearReward([1.0]), steps=4, truncate=4,
                        drift_steps=12, lr=0.05)
    callback = SampleEvaluation(every_n_steps=3, samples=64, genuine=LinearReward([-1.0]), patience=2)
    with pytest.warns(UserWarning, match="reward collapse at step 9"):
        events = _fit(module, tmp_path, callback)
    flags = [event.value for event in events.Scalars("reward/collapse")]
    assert flags == [0.0, 0.0, 1.0, 1.0]
    assert all(event.value == pytest.approx(-1.0) for event in events.Scalars("reward/spearman"))


def test_image_samples_are_logged_as_a_grid(tmp_path):
    class Eps(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.tensor(0.5))

        def forward(self, x, s):
            return self.scale * x

    class Control(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x, t):
            return self.conv(x)

    torch.manual_seed(0)
    sde = PretrainedSDE(Eps(), (1, 4, 4))
    module = ElegantModule(sde, NetworkCorrection(Control()), lambda x: x.mean((1, 2, 3)), alpha=1.0, steps=4,
                           drift_steps=2, learn_initial=False)
    events = _fit(module, tmp_path, SampleEvaluation(every_n_steps=1, samples=8))
    assert "samples/grid" in events.Tags()["images"]
    assert "target/mean_error" not in events.Tags()["scalars"]


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="every_n_steps"):
        SampleEvaluation(every_n_steps=0)
