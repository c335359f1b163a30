"""A Stable-Diffusion-shaped pipeline fine-tuned with LoRA through ElegantModule."""

import lightning as L
import pytest
import torch

from rewardsde import DDPMPipelineSDE, LatentDiffusionSDE, LoraCorrection
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.images import DecodedReward, MeanIntensity
from rewardsde.lightning_modules import ElegantModule
from tests.helpers.tiny_pipelines import save_ddpm_pipeline, save_latent_pipeline

TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]


@pytest.fixture(scope="module")
def latent_dir(tmp_path_factory):
    return save_latent_pipeline(tmp_path_factory.mktemp("latent"))


def _module(latent_dir, **overrides):
    torch.manual_seed(0)
    sde = LatentDiffusionSDE(str(latent_dir), ["a photo of a cat", "a digit"], guidance_scale=2.0)
    kwargs = dict(alpha=0.1, learn_initial=False, backend="direct", checkpoint=True, steps=3, drift_steps=3, lr=1e-2)
    return ElegantModule(sde, LoraCorrection(TARGETS, rank=2), DecodedReward(str(latent_dir), MeanIntensity()), **kwargs | overrides)


def test_lora_fine_tuning_trains_only_adapters_and_checkpoints_only_them(latent_dir, tmp_path):
    module = _module(latent_dir)
    before = {n: p.detach().clone() for n, p in module.named_parameters()}
    trainer = L.Trainer(accelerator="cpu", default_root_dir=tmp_path, logger=False, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.fit(module, FineTuneDataModule(batch_size=2))
    moved = {n for n, p in module.named_parameters() if not torch.equal(p, before[n])}
    assert moved and all("lora_" in n for n in moved)
    assert any("lora_B" in n for n in moved)

    path = next((tmp_path / "checkpoints").glob("*.ckpt"))
    checkpoint = torch.load(path, weights_only=True)
    saved = set(checkpoint["state_dict"])
    assert saved and all("lora_" in key for key in saved if key.startswith("sampler.controlled."))
    assert not any("base_layer" in key or "unet.conv_in" in key for key in saved)

    restored = ElegantModule.load_from_checkpoint(
        path, weights_only=True, sde=LatentDiffusionSDE(str(latent_dir), ["a photo of a cat", "a digit"], guidance_scale=2.0),
        correction=LoraCorrection(TARGETS, rank=2), reward=module.reward,
    )
    for name, p in module.named_parameters():
        assert torch.equal(p, dict(restored.named_parameters())[name]), name


def test_non_differentiable_reward_is_refused_with_the_method_and_reason(tmp_path):
    sde = DDPMPipelineSDE(str(save_ddpm_pipeline(tmp_path / "ddpm")))

    def thresholded(x):
        return (x.flatten(1).mean(1) > 0).float()

    module = ElegantModule(sde, LoraCorrection(["conv1"], rank=2), thresholded, alpha=1.0, learn_initial=False,
                           backend="direct", steps=2, drift_steps=1)
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False, default_root_dir=tmp_path)
    with pytest.raises(ValueError, match=r"thresholded is not differentiable in x, but ElegantObjective.drift_loss \(alpha=1.0\) trains the drift"):
        trainer.fit(module, FineTuneDataModule(batch_size=2))
