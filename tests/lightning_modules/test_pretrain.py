import lightning as L
import pytest
import torch
from diffusers import UNet2DModel
from torch.utils.data import DataLoader, TensorDataset

from rewardsde import MLP, DDPMPipelineSDE, DiffusersEps, VPSchedule
from rewardsde.datamodules import DigitsDataModule
from rewardsde.lightning_modules import PretrainModule
from tests.helpers.tiny_pipelines import tiny_unet


def _trainer(tmp_path, steps):
    return L.Trainer(
        max_steps=steps, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path,
    )


def test_pretraining_on_a_gaussian_recovers_its_mean_and_spread(tmp_path):
    """Data N(2, 0.5²): the model's samples must have that mean and std. The bound is
    the error of a small network after a short run; the sampling error (4000 draws)
    is ten times smaller."""
    L.seed_everything(0)
    data = 2.0 + 0.5 * torch.randn(4096, 1)
    network = MLP(1, 1, hidden=64, depth=2, timed=True)
    module = PretrainModule(network, event_shape=[1], schedule=VPSchedule(0.1, 12.0), lr=3e-3, ema_decay=0.99)
    _trainer(tmp_path, 1500).fit(module, DataLoader(TensorDataset(data), batch_size=256, shuffle=True))
    samples = module.sample(4000, steps=100, seed=0)
    assert samples.mean().item() == pytest.approx(2.0, abs=0.1)
    assert samples.std().item() == pytest.approx(0.5, abs=0.1)


def test_digits_pipeline_is_saved_in_diffusers_format(tmp_path):
    L.seed_everything(0)
    module = PretrainModule(DiffusersEps(tiny_unet()), output_dir=str(tmp_path / "digits"), ema_decay=0.5)
    _trainer(tmp_path, 3).fit(module, DigitsDataModule(batch_size=16))
    unet = UNet2DModel.from_pretrained(str(tmp_path / "digits"), subfolder="unet")
    x, s = torch.randn(2, 1, 8, 8), torch.tensor([0.2, 0.9])
    with torch.no_grad():
        assert torch.equal(unet(x, s * 1000 - 1).sample, module.ema.module(x, s))
        assert not torch.equal(module.ema.module(x, s), module.network(x, s))
    sde = DDPMPipelineSDE(str(tmp_path / "digits"))
    assert (sde.schedule.beta_min, sde.schedule.beta_max) == pytest.approx((0.1, 20.0))
    again = PretrainModule.from_pretrained(str(tmp_path / "digits"), lr=1e-4)
    with torch.no_grad():
        assert torch.equal(again.network(x, s), module.ema.module(x, s))
        assert torch.equal(again.ema.module(x, s), module.ema.module(x, s))
    assert again.hparams.lr == 1e-4
    assert all(p.requires_grad for p in again.network.parameters())


def test_data_of_another_size_than_the_unet_is_named(tmp_path):
    module = PretrainModule(DiffusersEps(tiny_unet()))
    with pytest.raises(ValueError, match=r"data of shape \(1, 16, 16\) does not match event_shape \(1, 8, 8\)"):
        _trainer(tmp_path, 1).fit(module, DigitsDataModule(batch_size=8, image_size=16))


def test_vector_networks_need_an_event_shape():
    with pytest.raises(ValueError, match="event_shape is required"):
        PretrainModule(MLP(2, 2))


def test_a_network_with_its_own_save_pretrained_saves_the_ema_model(tmp_path, generator):
    from rewardsde.domains import SequenceEps, SequenceSDE

    module = PretrainModule(SequenceEps(4, 6, channels=8, depth=1), event_shape=[4, 6], schedule=VPSchedule(0.1, 12.0))
    torch.nn.init.normal_(module.ema.module.backbone.out.weight, generator=generator)
    module.save_pretrained(tmp_path / "model")
    sde = SequenceSDE(str(tmp_path / "model"))
    x, s = torch.randn(2, 4, 6, generator=generator), torch.rand(2, generator=generator)
    assert torch.equal(sde.network(x, s), module.ema.module(x, s)) and sde.schedule.beta_max == 12.0


def test_a_short_run_never_writes_the_pretrained_directory(tmp_path):
    """fast_dev_run, a run on part of the data and one stopped early leave output_dir absent or as it was."""
    L.seed_everything(0)
    target = tmp_path / "digits"
    module = PretrainModule(DiffusersEps(tiny_unet()), output_dir=str(target), ema_decay=0.5)
    quick = L.Trainer(fast_dev_run=True, accelerator="cpu", logger=False, enable_progress_bar=False,
                      enable_model_summary=False, default_root_dir=tmp_path)
    with pytest.warns(UserWarning, match="fast_dev_run"):
        quick.fit(module, DigitsDataModule(batch_size=16))
    assert not target.exists()
    target.mkdir()
    (target / "marker").write_text("kept")
    partial = L.Trainer(max_epochs=1, limit_train_batches=2, accelerator="cpu", logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        default_root_dir=tmp_path)
    with pytest.warns(UserWarning, match="limit_train_batches=2"):
        partial.fit(module, DigitsDataModule(batch_size=16))
    assert [p.name for p in target.iterdir()] == ["marker"]


def test_cross_entropy_pretraining_learns_the_tokens_of_a_single_sequence(tmp_path):
    """Data that are always one sequence: after a few steps of loss="ce" the x0-logits at low noise pick its tokens."""
    from rewardsde import CrossEntropyDenoisingLoss
    from rewardsde.domains import SequenceEps, one_hot

    torch.manual_seed(0)
    tokens = torch.tensor([[0, 1, 2, 3, 0, 1]])
    data = one_hot(tokens, 4).expand(64, 4, 6).contiguous()
    network = SequenceEps(4, 6, channels=8, depth=1, parameterisation="x0")
    module = PretrainModule(network, event_shape=[4, 6], lr=2e-2, ema_decay=0.0, loss="ce", min_snr_gamma=5.0)
    assert isinstance(module.loss, CrossEntropyDenoisingLoss) and module.loss.min_snr_gamma == 5.0
    _trainer(tmp_path, 40).fit(module, DataLoader(TensorDataset(data), batch_size=16))
    s = torch.full((8,), 0.1)
    root, sigma = module.schedule.alpha_bar(s).sqrt()[:, None, None], module.schedule.sigma(s)[:, None, None]
    x = root * data[:8] + sigma * torch.randn(8, 4, 6)
    assert torch.equal(module.ema.module.logits(x, s).argmax(1), tokens.expand(8, 6))


def test_a_loss_that_does_not_fit_the_network_is_named():
    from rewardsde.domains import SequenceEps

    with pytest.raises(ValueError, match="loss must be one of .* got 'kl'"):
        PretrainModule(SequenceEps(4, 6, channels=8, depth=1, parameterisation="x0"), event_shape=[4, 6], loss="kl")
    with pytest.raises(ValueError, match=r"loss='ce' needs a network with x0-logits .* got MLP"):
        PretrainModule(MLP(2, 2), event_shape=[2], loss="ce")
    with pytest.raises(ValueError, match=r"loss='ce' needs a network with x0-logits .* got SequenceEps"):
        PretrainModule(SequenceEps(4, 6, channels=8, depth=1), event_shape=[4, 6], loss="ce")


def test_lr_multipliers_put_the_named_parameters_in_their_own_group():
    from rewardsde.domains import SequenceEps

    network = SequenceEps(4, 6, channels=8, depth=1, parameterisation="x0", head="chain")
    groups = PretrainModule.parameter_groups(network, 1e-3, {"backbone.transition": 25.0})
    assert [g["lr"] for g in groups] == [1e-3, 25e-3]
    assert groups[1]["params"] == [network.backbone.transition]
    assert len(groups[0]["params"]) + 1 == len(list(network.parameters()))
    assert PretrainModule.parameter_groups(network, 1e-3, {})[0]["params"] == list(network.parameters())
    with pytest.raises(ValueError, match="lr_multipliers names 'transitions', which no parameter"):
        PretrainModule(network, event_shape=[4, 6], loss="ce", lr_multipliers={"transitions": 2.0})
    with pytest.raises(ValueError, match=r"lr_multipliers\['backbone.transition'\] must be positive, got 0"):
        PretrainModule(network, event_shape=[4, 6], loss="ce", lr_multipliers={"backbone.transition": 0})
