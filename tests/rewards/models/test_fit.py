"""Early stopping keeps each head's best weights, judged on the held-out split."""

import pytest
import torch

from rewardsde.rewards.models import Heads, fit_heads


def _noisy(n=24, seed=0):
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 3, generator=generator)
    return z, z[:, 0] + torch.randn(n, generator=generator)


def test_each_head_keeps_the_weights_of_its_best_held_out_epoch():
    z, y = _noisy()
    heads = Heads(3, 3, hidden=64, depth=2)
    heads.reset(torch.Generator().manual_seed(1))
    generator = torch.Generator().manual_seed(2)
    report = fit_heads(heads, z, y, generator, holdout=0.25, epochs=400, patience=400, lr=3e-2)
    assert report.curve.shape[0] == 400
    assert (report.best_epoch < 399).all(), "the test needs over-fitting, so that the last epoch is not the best"
    order = torch.randperm(24, generator=torch.Generator().manual_seed(2))
    held = order[:6]
    with torch.no_grad():
        error = (heads(z[held]) - y[held]).pow(2).mean(1)
    torch.testing.assert_close(error, report.curve.min(0).values)
    torch.testing.assert_close(report.holdout_error, error.sqrt())
    assert (error < report.curve[-1]).all()


def test_training_stops_once_no_head_improves_for_patience_epochs():
    z, y = _noisy()
    heads = Heads(2, 3, hidden=64)
    report = fit_heads(heads, z, y, torch.Generator().manual_seed(0), epochs=2000, patience=20, lr=3e-2)
    assert len(report.curve) == int(report.best_epoch.max()) + 21 < 2000


@pytest.mark.parametrize("kwargs, message", [
    (dict(holdout=1.0), "0 < holdout < 1"),
    (dict(epochs=0), "epochs >= 1"),
])
def test_bad_fit_settings_are_named(kwargs, message):
    z, y = _noisy()
    with pytest.raises(ValueError, match=message):
        fit_heads(Heads(1, 3), z, y, torch.Generator(), **kwargs)


def test_too_few_labels_are_named():
    with pytest.raises(ValueError, match="at least 2 labels"):
        fit_heads(Heads(1, 3), torch.zeros(1, 3), torch.zeros(1), torch.Generator())
