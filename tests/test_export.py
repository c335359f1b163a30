import pytest
import torch
from diffusers import DDPMPipeline, StableDiffusionPipeline

from rewardsde import ControlledSDE, DDPMPipelineSDE, LatentDiffusionSDE, LoraCorrection, export_pipeline
from tests.helpers.tiny_pipelines import save_ddpm_pipeline, save_latent_pipeline


def _trained_lora(sde, targets):
    correction = LoraCorrection(targets, rank=2)
    controlled = ControlledSDE(sde, correction)
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in controlled.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.1)
    return correction


def test_ddpm_export_merges_the_adapters_into_a_pipeline_diffusers_loads(tmp_path):
    sde = DDPMPipelineSDE(str(save_ddpm_pipeline(tmp_path / "base")))
    correction = _trained_lora(sde, ["conv1", "conv2"])
    x, s = torch.randn(2, 1, 8, 8), torch.tensor([0.3, 0.6])
    with torch.no_grad():
        finetuned = sde.network(x, s)
        export_pipeline(sde, correction, tmp_path / "out")
        unet = DDPMPipeline.from_pretrained(str(tmp_path / "out")).unet
        with correction.adapters_disabled():
            pretrained = sde.network(x, s)
        exported = unet(x, s * 1000 - 1).sample
    assert not torch.allclose(finetuned, pretrained, atol=1e-3)
    assert torch.allclose(exported, finetuned, atol=1e-5)
    assert (tmp_path / "out" / "unet_lora" / "adapter_model.safetensors").is_file()


def test_latent_export_is_the_base_pipeline_plus_lora_weights_diffusers_loads(tmp_path):
    sde = LatentDiffusionSDE(str(save_latent_pipeline(tmp_path / "base")), ["a photo of a cat"], guidance_scale=1.0)
    correction = _trained_lora(sde, ["to_q", "to_k", "to_v", "to_out.0"])
    x, s = torch.randn(2, 4, 8, 8), torch.tensor([0.3, 0.6])
    condition = sde.network.prompt_embeddings.expand(2, -1, -1)
    with torch.no_grad():
        finetuned = sde.network(x, s)
        export_pipeline(sde, correction, tmp_path / "out")
        pipeline = StableDiffusionPipeline.from_pretrained(str(tmp_path / "out"), safety_checker=None)
        base = pipeline.unet(x, s * 1000 - 1, encoder_hidden_states=condition).sample
        pipeline.load_lora_weights(str(tmp_path / "out"))
        exported = pipeline.unet(x, s * 1000 - 1, encoder_hidden_states=condition).sample
    assert not torch.allclose(base, finetuned, atol=1e-3)
    assert torch.allclose(exported, finetuned, atol=1e-5)


def test_export_refuses_a_correction_of_another_sde(tmp_path):
    directory = save_ddpm_pipeline(tmp_path / "base")
    sde, other = DDPMPipelineSDE(str(directory)), DDPMPipelineSDE(str(directory))
    correction = _trained_lora(other, ["conv1"])
    with pytest.raises(ValueError, match="LoraCorrection attached to this sde"):
        export_pipeline(sde, correction, tmp_path / "out")
