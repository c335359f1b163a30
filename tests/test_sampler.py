"""FineTunedSampler: seeded rollouts, the fixed-law start, and loading a Lightning checkpoint without a Trainer."""

import lightning as L
import pytest
import torch

from rewardsde import FineTunedSampler, LearnedInitialLaw, NetworkCorrection
from rewardsde.analytic import BrownianPrior, LinearReward
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.lightning_modules import ElegantModule


def test_fixed_law_rollout_starts_from_the_reference_and_repeats_with_its_seed():
    sampler = FineTunedSampler(BrownianPrior(2), NetworkCorrection(hidden=8), steps=3, backend="direct")
    rollout = sampler.rollout(5, seed=7)
    assert rollout.x.shape == rollout.x0.shape == (5, 2)
    assert torch.equal(rollout.initial_cost, torch.zeros(5)) and torch.equal(rollout.kl, rollout.running_cost)
    assert torch.equal(sampler.sample(5, seed=7), rollout.x)
    assert not torch.equal(sampler.sample(5, seed=8), rollout.x)


def test_checkpoint_of_a_module_loads_into_a_plain_sampler(tmp_path):
    torch.manual_seed(0)
    module = ElegantModule(BrownianPrior(2), NetworkCorrection(hidden=8), LinearReward([1.0, 0.5]), alpha=0.5, steps=3,
                           drift_steps=2, value_steps=1, initial_steps=1, initial_hidden=8, initial_solver_steps=3)
    saver = L.pytorch.callbacks.ModelCheckpoint(dirpath=tmp_path, save_last=True)
    L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
              default_root_dir=tmp_path, callbacks=[saver]).fit(module, FineTuneDataModule(batch_size=8))
    torch.manual_seed(1)  # different initial weights: only the checkpoint can make them equal
    sampler = FineTunedSampler(BrownianPrior(2), NetworkCorrection(hidden=8), LearnedInitialLaw((2,), 8, steps=3),
                               steps=3)
    assert not torch.equal(sampler.sample(4, seed=0), module.sample(4, seed=0))
    sampler.load_checkpoint(tmp_path / "last.ckpt")
    assert torch.equal(sampler.sample(4, seed=0), module.sample(4, seed=0))


def test_checkpoint_without_the_initial_law_is_named(tmp_path):
    torch.manual_seed(0)
    module = ElegantModule(BrownianPrior(2), NetworkCorrection(hidden=8), LinearReward([1.0, 0.5]), alpha=0.5,
                           steps=3, drift_steps=1, learn_initial=False)
    torch.save({"state_dict": {f"sampler.{k}": v for k, v in module.sampler.state_dict().items()}}, tmp_path / "c.ckpt")
    sampler = FineTunedSampler(BrownianPrior(2), NetworkCorrection(hidden=8), LearnedInitialLaw((2,), 8), steps=3)
    with pytest.raises(ValueError, match="lacks the trained weights"):
        sampler.load_checkpoint(tmp_path / "c.ckpt")
    with pytest.raises(ValueError, match="holds no weights under 'model.'"):
        sampler.load_checkpoint(tmp_path / "c.ckpt", prefix="model.")


def test_initial_law_of_another_shape_is_named():
    with pytest.raises(ValueError, match=r"initial_law samples shape \(3,\), the reference \(2,\)"):
        FineTunedSampler(BrownianPrior(2), NetworkCorrection(), LearnedInitialLaw((3,)))
