import pytest
import torch

from rewardsde.domains import fit_surrogate, one_hot


def test_fits_a_held_out_nonlinear_reward_and_is_differentiable(generator):
    tokens = torch.randint(0, 6, (300, 10), generator=generator)
    x = one_hot(tokens, 6)
    linear = (x * torch.randn(6, 10, generator=generator)).sum(dim=(1, 2))
    y = linear + 0.5 * torch.tanh(linear)
    model, fit = fit_surrogate(x, y, max_epochs=40, patience=8, seed=0, hidden=32)
    assert fit.held_out_correlation > 0.95 and 1 <= fit.best_epoch <= fit.epochs <= 40
    assert fit.held_out_mse < 0.1 * y.var().item()
    probe = x[:3].clone().requires_grad_()
    model(probe).sum().backward()
    assert probe.grad.shape == (3, 6, 10) and probe.grad.abs().sum() > 0


def test_noise_labels_are_not_fitted(generator):
    x = one_hot(torch.randint(0, 4, (200, 6), generator=generator), 4)
    _, fit = fit_surrogate(x, torch.randn(200, generator=generator), max_epochs=20, patience=5, hidden=16)
    assert abs(fit.held_out_correlation) < 0.5


def test_bad_input_is_named():
    x = torch.zeros(10, 3, 4)
    with pytest.raises(ValueError, match=r"y of shape \(n,\), got \(10, 3, 4\) and \(9,\)"):
        fit_surrogate(x, torch.zeros(9))
    with pytest.raises(ValueError, match="1 non-finite"):
        fit_surrogate(x, torch.tensor([float("nan")] + [0.0] * 9))
    with pytest.raises(ValueError, match="fewer than 2 rows"):
        fit_surrogate(x, torch.zeros(10), held_out=0.05)
