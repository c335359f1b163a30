"""Early stopping keeps each head's best weights, judged on the held-out split."""

import pytest
import torch

from rewardsde.rewards.models import Heads, fit_heads


def _noisy(n=24, seed=0):
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 3, generator=generator)
    return z, z[:, 0] + torch.randn(n, generator=generator)


def _over_fitting_run(epochs):
    """Three heads on 24 noisy labels, freshly seeded: long runs over-fit."""
    z, y = _noisy()
    heads = Heads(3, 3, hidden=64, depth=2)
    heads.reset(torch.Generator().manual_seed(1))
    report = fit_heads(heads, z, y, torch.Generator().manual_seed(2), holdout=0.25, epochs=epochs, patience=400, lr=3e-2)
    return heads, report


def test_each_head_keeps_the_weights_of_its_best_held_out_epoch():
    """Early stopping keeps, per head, the epoch of least held-out error on the returned
    curve: the reported error is that minimum, and the kept weights are those a run stopped
    right after that epoch ends with (the split and the updates are the same up to there)."""
    heads, report = _over_fitting_run(400)
    assert report.curve.shape == (400, 3)
    assert (report.best_epoch < 399).all(), "the test needs over-fitting, so that the last epoch is not the best"
    assert torch.equal(report.best_epoch, report.curve.argmin(0))
    torch.testing.assert_close(report.holdout_error, report.curve.min(0).values.sqrt())
    assert (report.curve.min(0).values < report.curve[-1]).all()
    for head, best in enumerate(report.best_epoch.tolist()):
        stopped, _ = _over_fitting_run(best + 1)
        for kept, then in zip(heads.parameters(), stopped.parameters()):
            torch.testing.assert_close(kept[head], then[head])


def test_fit_recovers_a_linear_function():
    """Noise-free labels ``y = z₁ - 2z₂``: every head predicts fresh inputs to within a tenth
    of the labels' standard deviation (√5)."""
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(200, 3, generator=generator)
    truth = lambda points: points[:, 0] - 2 * points[:, 1]  # noqa: E731
    heads = Heads(2, 3, hidden=32)
    fit_heads(heads, z, truth(z), generator, epochs=400, patience=400, lr=1e-2)
    fresh = torch.randn(100, 3, generator=generator).clamp(-2, 2)
    with torch.no_grad():
        error = (heads(fresh) - truth(fresh)).pow(2).mean(1).sqrt()
    assert (error < 0.1 * 5**0.5).all()


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


def test_minibatch_fit_recovers_a_linear_function_and_repeats_exactly():
    """Minibatches of 32 from a seeded order: the same seed gives the same weights, and the
    noise-free ``y = z₁ - 2z₂`` is learned to within a tenth of its standard deviation."""
    z = torch.randn(200, 3, generator=torch.Generator().manual_seed(0))
    truth = z[:, 0] - 2 * z[:, 1]
    fitted = []
    for _ in range(2):
        heads = Heads(2, 3, hidden=32)
        report = fit_heads(heads, z, truth, torch.Generator().manual_seed(1), epochs=60, patience=60, lr=1e-2,
                           batch_size=32)
        fitted.append(heads)
    assert all(torch.equal(p, q) for p, q in zip(fitted[0].parameters(), fitted[1].parameters()))
    assert (report.holdout_error < 0.1 * 5**0.5).all()


def test_a_bad_batch_size_is_named():
    z, y = _noisy()
    with pytest.raises(ValueError, match="batch_size must be positive or None, got 0"):
        fit_heads(Heads(1, 3), z, y, torch.Generator(), batch_size=0)


def test_a_given_split_is_kept_and_a_bad_one_is_named():
    """With ``held`` the held-out error is measured on exactly those rows: at learning rate 0 the heads
    keep their start ``c`` on ``z = 0``, so the error is ``|c - 10|`` when the rows labelled 10 are held
    out and ``|c|`` when two rows labelled 0 are."""
    z = torch.zeros(6, 1)
    y = torch.tensor([0.0, 0.0, 0.0, 0.0, 10.0, 10.0])
    heads = Heads(1, 1)
    c = heads(z[:1]).item()
    for held, error in ((torch.arange(6) >= 4, abs(c - 10)), (torch.arange(6) < 2, abs(c))):
        report = fit_heads(heads, z, y, torch.Generator().manual_seed(0), epochs=3, lr=0.0, held=held)
        assert report.holdout_error.item() == pytest.approx(error, rel=1e-6)
    for bad in (torch.zeros(6, dtype=torch.bool), torch.ones(6, dtype=torch.bool), torch.zeros(5, dtype=torch.bool)):
        with pytest.raises(ValueError, match="bool mask with at least one row held out and one not"):
            fit_heads(Heads(1, 1), z, y, torch.Generator(), held=bad)


def test_max_steps_ends_the_fit_mid_epoch_and_scores_it():
    """270 training rows in batches of 32 are 9 steps an epoch: 25 steps are two epochs and 7 steps of a
    third, so three held-out scores (without the cap: 100)."""
    z = torch.randn(300, 3, generator=torch.Generator().manual_seed(0))
    y = z[:, 0]
    heads = Heads(2, 3)
    report = fit_heads(heads, z, y, torch.Generator().manual_seed(1), holdout=0.1, epochs=100, patience=100,
                       batch_size=32, max_steps=25)
    assert report.curve.shape == (3, 2)
    with pytest.raises(ValueError, match="max_steps must be positive or None, got 0"):
        fit_heads(Heads(1, 3), z, y, torch.Generator(), max_steps=0)
