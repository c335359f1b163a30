"""ElegantModule's contract: phases, logging, resume, and errors that name the problem."""

import math

import lightning as L
import pytest
import torch
from torch import nn

from rewardsde import NetworkCorrection, PretrainedSDE
from rewardsde.analytic import BrownianPrior, GaussianMixturePrior, LinearReward
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.lightning_modules import ElegantModule, NoKLModule


def _module(**overrides) -> ElegantModule:
    torch.manual_seed(0)
    kwargs = dict(alpha=0.5, steps=5, drift_steps=4, value_steps=3, initial_steps=3, initial_solver_steps=5)
    kwargs |= overrides
    return ElegantModule(BrownianPrior(2), NetworkCorrection(hidden=8), LinearReward([1.0, 0.5]), **kwargs)


def _trainer(tmp_path, **overrides) -> L.Trainer:
    kwargs = dict(
        accelerator="cpu", default_root_dir=tmp_path, logger=False, enable_progress_bar=False,
        enable_model_summary=False, enable_checkpointing=False,
    )
    return L.Trainer(**(kwargs | overrides))


def test_phases_follow_the_global_step():
    module = _module()
    assert [module.phase(step) for step in range(11)] == ["drift"] * 4 + ["value"] * 3 + ["initial"] * 3 + [None]
    assert _module(learn_initial=False).total_steps == 4


def test_training_runs_every_phase_and_stops_by_itself(tmp_path):
    module = _module()
    trainer = _trainer(tmp_path)
    trainer.fit(module, FineTuneDataModule(batch_size=8))
    assert trainer.global_step == module.total_steps == 10
    logged = trainer.callback_metrics
    for key in ("train/reward", "train/kl_running", "train/loss_drift", "train/loss_value",
                "value/spread", "train/kl_initial", "train/loss_initial"):
        assert key in logged and torch.isfinite(logged[key]), key


def test_only_the_current_phase_moves(tmp_path):
    module = _module(drift_steps=2, value_steps=2, initial_steps=1)
    parts = {
        "drift": module.controlled,
        "value": module.initial_law.value,
        "initial": module.initial_law.auxiliary,
    }

    def snapshot():
        return {name: [p.detach().clone() for p in part.parameters()] for name, part in parts.items()}

    class Recorder(L.Callback):
        def __init__(self):
            self.states = [snapshot()]

        def on_train_batch_end(self, *args):
            self.states.append(snapshot())

    recorder = Recorder()
    _trainer(tmp_path, callbacks=[recorder]).fit(module, FineTuneDataModule(batch_size=8))
    phases = ["drift", "drift", "value", "value", "initial"]
    for step, phase in enumerate(phases):
        before, after = recorder.states[step], recorder.states[step + 1]
        for name in parts:
            moved = any(not torch.equal(a, b) for a, b in zip(before[name], after[name]))
            assert moved == (name == phase), (step, name)


def test_sample_shapes_and_fixed_law_start():
    module = _module(learn_initial=False)
    rollout = module.rollout(6, seed=0)
    assert rollout.x.shape == rollout.x0.shape == (6, 2)
    assert torch.equal(rollout.initial_cost, torch.zeros(6))
    assert module.sample(3, seed=1).shape == (3, 2)
    assert torch.equal(module.sample(3, seed=1), module.sample(3, seed=1))


def test_resume_from_checkpoint_ends_where_an_uninterrupted_run_ends(tmp_path):
    uninterrupted = _module()
    _trainer(tmp_path / "a").fit(uninterrupted, FineTuneDataModule(batch_size=8))

    first = _module()
    checkpoint = L.pytorch.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)
    _trainer(tmp_path / "b", max_steps=5, enable_checkpointing=True, callbacks=[checkpoint]).fit(
        first, FineTuneDataModule(batch_size=8)
    )
    resumed = _module()
    _trainer(tmp_path / "c").fit(resumed, FineTuneDataModule(batch_size=8), ckpt_path=tmp_path / "ckpt" / "last.ckpt",
                                  weights_only=True)
    for (name, a), b in zip(uninterrupted.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name


def test_checkpoint_of_another_method_is_refused(tmp_path):
    checkpoint = L.pytorch.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)
    no_kl = NoKLModule(BrownianPrior(2), NetworkCorrection(hidden=8), LinearReward([1.0, 0.5]), steps=5, drift_steps=2)
    _trainer(tmp_path, enable_checkpointing=True, callbacks=[checkpoint]).fit(no_kl, FineTuneDataModule(batch_size=8))
    with pytest.raises(ValueError, match="written by NoKLModule, not ElegantModule"):
        _trainer(tmp_path).fit(_module(), FineTuneDataModule(batch_size=8), ckpt_path=tmp_path / "ckpt" / "last.ckpt",
                                  weights_only=True)


@pytest.mark.parametrize("alpha", [0.0, -1.0])
def test_elegant_needs_a_positive_alpha(alpha):
    with pytest.raises(ValueError, match=f"alpha must be positive for ElegantModule, got {alpha}"):
        _module(alpha=alpha)


def test_no_kl_baseline_allows_alpha_zero_explicitly(tmp_path):
    module = NoKLModule(BrownianPrior(2), NetworkCorrection(hidden=8), LinearReward([1.0, 0.5]), steps=6, truncate=2,
                        drift_steps=3)
    assert module.hparams.alpha == 0.0 and module.initial_law is None
    _trainer(tmp_path).fit(module, FineTuneDataModule(batch_size=8))
    assert module.global_step == 3


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda x: torch.full((x.shape[0],), math.nan), "non-finite"),
        (lambda x: torch.full((x.shape[0],), math.inf), "non-finite"),
        (lambda x: x.sum(1, keepdim=True), r"must return a tensor of shape \(8,\)"),
    ],
)
def test_bad_reward_is_named(tmp_path, bad, message):
    module = ElegantModule(BrownianPrior(2), NetworkCorrection(hidden=8), bad, alpha=1.0, steps=3, drift_steps=1,
                           learn_initial=False)
    with pytest.raises(ValueError, match=message):
        _trainer(tmp_path).fit(module, FineTuneDataModule(batch_size=8))


def test_eps_network_shape_mismatch_is_named(tmp_path):
    class WrongShape(nn.Module):
        def forward(self, x, s):
            return x[:, :1]

    module = ElegantModule(PretrainedSDE(WrongShape(), (2,)), NetworkCorrection(hidden=8), LinearReward([1.0, 0.0]),
                           alpha=1.0, steps=3, drift_steps=1, learn_initial=False)
    with pytest.raises(ValueError, match=r"eps network returned shape \(8, 1\) for input of shape \(8, 2\)"):
        _trainer(tmp_path).fit(module, FineTuneDataModule(batch_size=8))


@pytest.mark.parametrize("kwargs, message", [({"backend": "shooting"}, "unknown backend 'shooting'"),
                                             ({"method": "rk45"}, "unknown solver method 'rk45'"),
                                             ({"value_steps": 0}, "value_steps must be positive")])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _module(**kwargs)


def test_auto_initial_law_keeps_the_standard_start_when_the_value_has_no_skill(tmp_path):
    """On a prior whose end forgets its start the value has no held-out skill, so
    learn_initial='auto' keeps ν = N(0, I): the auxiliary control never moves and samples
    start at no initial cost."""
    torch.manual_seed(0)
    prior = GaussianMixturePrior([0.5, 0.3, 0.2], [[-1.5, 0], [1.5, 0], [0, 2]], [0.5, 0.5, 0.5])
    module = ElegantModule(prior, NetworkCorrection(hidden=8), LinearReward([1.0, 0.0]), alpha=1.0,
                           learn_initial="auto", backend="direct", method="euler", steps=4, drift_steps=2,
                           value_steps=20, initial_steps=3, value_lr=1e-2, initial_solver_steps=3)
    auxiliary = [p.detach().clone() for p in module.initial_law.auxiliary.parameters()]
    trainer = _trainer(tmp_path)
    trainer.fit(module, FineTuneDataModule(batch_size=64))
    assert trainer.global_step == module.total_steps == 25
    assert not module.initial_law.enabled and trainer.callback_metrics["initial/enabled"] == 0
    assert trainer.callback_metrics["value/skill"] < 0.05
    assert all(torch.equal(a, b) for a, b in zip(auxiliary, module.initial_law.auxiliary.parameters()))
    assert torch.equal(module.rollout(8, seed=0).initial_cost, torch.zeros(8))


def test_learn_initial_must_be_a_bool_or_auto():
    with pytest.raises(ValueError, match="learn_initial must be true, false or 'auto', got 'sometimes'"):
        _module(learn_initial="sometimes")


def test_the_tilted_estimator_trains_a_copy_of_the_network_from_a_pool(tmp_path):
    from rewardsde import DenoiserCorrection
    from tests.helpers.tiny_eps import TinyEps

    torch.manual_seed(0)
    sde = PretrainedSDE(TinyEps(), (2,))
    module = ElegantModule(sde, DenoiserCorrection(), LinearReward([1.0, 0.5]), alpha=0.5, estimator="tilted",
                           pool=64, learn_initial=False, backend="direct", method="euler", steps=4, drift_steps=3)
    frozen = [p.detach().clone() for p in sde.network.parameters()]
    copy = [p.detach().clone() for p in module.controlled.correction.network.parameters()]
    trainer = _trainer(tmp_path)
    trainer.fit(module, FineTuneDataModule(batch_size=8))
    assert trainer.global_step == 3
    assert module.objective.samples.shape == (64, 2)
    assert 1 <= trainer.callback_metrics["train/ess"] <= 64
    assert all(torch.equal(a, b) for a, b in zip(frozen, sde.network.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(copy, module.controlled.correction.network.parameters()))
    # No weight decay on the copy: decay would pull it toward zero weights, away from the pretrained ones.
    assert module.configure_optimizers()[0]["optimizer"].param_groups[0]["weight_decay"] == 0.0


@pytest.mark.parametrize("kwargs, message", [({"estimator": "score"}, "estimator must be 'pathwise' or 'tilted'"),
                                             ({"estimator": "tilted"}, "set learn_initial: false, got True")])
def test_bad_estimator_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _module(**kwargs)
