"""The learned initial law on its own, against the closed form of a linear value.

With ``v(x) = cᵀx`` the best initial law is ``ν ∝ exp(v/α)·N(0, I) = N(c/α, I)``, at
``KL(ν ‖ N(0, I)) = ½‖c/α‖²``. The auxiliary problem reaches it with the constant control
``b ≡ c/α``: maximising ``E[cᵀz_1] - α·E∫½‖b‖²`` over ``b ≡ β`` gives ``cᵀβ - ½α‖β‖²``.
"""

import pytest
import torch
from torch import nn

from rewardsde.initial_law import LearnedInitialLaw

pytestmark = pytest.mark.core

C, ALPHA = torch.tensor([1.0, -0.5]), 0.5
TARGET = C / ALPHA  # ν = N((2, -1), I)


@pytest.fixture(scope="module")
def trained_law():
    """The auxiliary control trained by a plain torch loop against the fixed linear value."""
    torch.manual_seed(0)
    law = LearnedInitialLaw((2,), hidden=16, depth=1, steps=10)
    law.value = nn.Linear(2, 1, bias=False).requires_grad_(False)
    law.value.weight.copy_(C[None])
    optimizer = torch.optim.Adam(law.auxiliary.parameters(), lr=3e-2)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 150)
    for step in range(150):
        start = law.sample(128, seed=step)
        loss = -(law.value_at(start.x) - ALPHA * start.running_cost).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return law


def test_the_value_is_read_on_flat_samples():
    law = LearnedInitialLaw((2, 3), hidden=8)
    assert law.value_at(torch.zeros(5, 2, 3)).shape == (5,)


def test_untrained_law_is_the_standard_normal():
    """The auxiliary control starts at zero: ``z_1 = W_1 ~ N(0, I)`` at no cost."""
    law = LearnedInitialLaw((2,), hidden=8, steps=10)
    with torch.no_grad():
        start = law.sample(4000, seed=0)
    assert torch.equal(start.running_cost, torch.zeros(4000))
    assert (start.x.mean(0).abs() < 5 / 4000**0.5).all()  # 5 standard errors of a unit-variance mean


def test_trained_law_is_the_tilt_of_the_standard_normal(trained_law):
    """Samples of ν have mean ``c/α`` and unit variance; the tolerance is 5 standard errors
    (``1/√n`` for the mean, ``√(2/(n-1))`` for the variance) plus 0.05 for the optimisation,
    which stops after 150 noisy steps with the control not exactly constant."""
    n = 8000
    with torch.no_grad():
        start = trained_law.sample(n, seed=10_000)
    assert ((start.x.mean(0) - TARGET).abs() < 5 / n**0.5 + 0.05).all()
    assert ((start.x.var(0) - 1).abs() < 5 * (2 / (n - 1)) ** 0.5 + 0.05).all()


def test_kl_estimate_of_the_trained_law_is_the_exact_kl(trained_law):
    """``E∫½‖b‖²`` estimates ``KL(ν ‖ N(0, I)) = ½‖c/α‖² = 2.5`` (Girsanov; at the optimum the
    bound is tight). Tolerance: 5 standard errors of the mean cost, plus 2% for the optimisation."""
    n = 8000
    with torch.no_grad():
        cost = trained_law.sample(n, seed=20_000).running_cost.double()
    exact = 0.5 * TARGET.pow(2).sum().item()
    assert abs(cost.mean().item() - exact) < 5 * cost.std().item() / n**0.5 + 0.02 * exact
