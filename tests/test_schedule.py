import pytest
import torch
from diffusers import DDPMScheduler

from rewardsde import VPSchedule


def test_from_diffusers_linear_ddpm_maps_to_continuous_betas():
    schedule = VPSchedule.from_diffusers(DDPMScheduler(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02))
    assert schedule.beta_min == pytest.approx(0.1)
    assert schedule.beta_max == pytest.approx(20.0)


def test_continuous_alpha_bar_matches_the_discrete_product():
    scheduler = DDPMScheduler(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02)
    schedule = VPSchedule.from_diffusers(scheduler)
    betas = scheduler.betas.double()
    for step in (10, 250, 500, 999):
        s = torch.tensor((step + 1) / 1000, dtype=torch.float64)
        discrete = torch.log(scheduler.alphas_cumprod[step].double())
        # log Π(1 - β_i) = -Σβ_i - ½Σβ_i² - …; the continuous limit keeps the first term
        # (up to the midpoint rule), so the gap is about ½Σβ_i², at most 0.07 here.
        gap = 0.5 * betas[: step + 1].pow(2).sum() + 1e-3
        assert abs(schedule.log_alpha_bar(s) - discrete) <= gap


def test_non_linear_diffusers_schedule_is_refused():
    with pytest.raises(ValueError, match="squaredcos_cap_v2"):
        VPSchedule.from_diffusers(DDPMScheduler(beta_schedule="squaredcos_cap_v2"))


def test_sigma_runs_from_zero_to_one():
    schedule = VPSchedule(0.1, 20.0)
    s = torch.linspace(0, 1, 11, dtype=torch.float64)
    sigma = schedule.sigma(s)
    assert sigma[0] == 0 and sigma[-1] == pytest.approx(1.0, abs=1e-4)
    assert (sigma.diff() > 0).all()
    assert torch.allclose(sigma**2 + schedule.alpha_bar(s), torch.ones_like(s))


@pytest.mark.parametrize("beta_min, beta_max", [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_bad_betas_are_named(beta_min, beta_max):
    with pytest.raises(ValueError, match="beta_m"):
        VPSchedule(beta_min, beta_max)
