import pytest
import torch

from rewardsde import ControlledSDE, LoraCorrection, PretrainedSDE, VPSchedule
from rewardsde.analytic import BrownianPrior
from tests.helpers.tiny_eps import TinyEps


@pytest.fixture
def lora_sde():
    torch.manual_seed(0)
    sde = PretrainedSDE(TinyEps(), (2,), VPSchedule(0.1, 20.0))
    correction = LoraCorrection(["inner", "outer"], rank=2)
    return ControlledSDE(sde, correction), correction


def test_lora_starts_as_the_pretrained_network(lora_sde):
    controlled, correction = lora_sde
    x, t = torch.randn(4, 2), torch.tensor(0.3)
    drift, control = correction(t, x)
    assert torch.equal(control, torch.zeros_like(x))
    assert torch.allclose(drift, controlled.reference.drift(t, x))


def test_only_adapter_weights_train(lora_sde):
    controlled, _ = lora_sde
    trainable = [name for name, p in controlled.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)


def test_adapters_off_give_the_pretrained_drift_and_on_give_the_control(lora_sde):
    controlled, correction = lora_sde
    with torch.no_grad():
        for name, p in controlled.named_parameters():
            if "lora_B" in name:
                p.normal_()
    reference = controlled.reference
    x, t = torch.randn(4, 2), torch.tensor(0.3)
    drift, control = correction(t, x)
    with correction.adapters_disabled():
        pretrained_eps = reference.eps(t, x)
    finetuned_eps = reference.eps(t, x)
    s = 1 - t
    beta = reference.schedule.beta(s)
    assert not torch.allclose(pretrained_eps, finetuned_eps)
    assert torch.allclose(drift, reference.drift_from_eps(t, x, pretrained_eps), atol=1e-6)
    # f + σa must equal the drift of the fine-tuned ε-network.
    assert torch.allclose(drift + beta.sqrt() * control, reference.drift_from_eps(t, x, finetuned_eps), atol=1e-5)
    assert all(p.requires_grad for n, p in controlled.named_parameters() if "lora_" in n)


def test_unknown_target_module_is_named():
    sde = PretrainedSDE(TinyEps(), (2,))
    with pytest.raises(ValueError, match="not_a_layer"):
        ControlledSDE(sde, LoraCorrection(["not_a_layer"]))


def test_lora_needs_a_network_sde():
    with pytest.raises(ValueError, match="needs a PretrainedSDE"):
        ControlledSDE(BrownianPrior(2), LoraCorrection(["inner"]))


def test_reference_drift_is_the_pretrained_drift_once_the_adapters_have_moved(lora_sde):
    """Adjoint Matching's lean adjoint differentiates ``reference_drift``: with trained adapters it must
    still be the pretrained network's drift, not the fine-tuned one."""
    controlled, correction = lora_sde
    x, t = torch.randn(4, 2), torch.tensor(0.3)
    pretrained = controlled.reference.drift(t, x)
    with torch.no_grad():
        for name, p in controlled.named_parameters():
            if "lora_B" in name:
                p.normal_()
    assert not torch.allclose(controlled.reference.drift(t, x), pretrained)  # the adapters now act
    torch.testing.assert_close(correction.reference_drift(t, x), pretrained)
    torch.testing.assert_close(correction(t, x)[0], pretrained)
