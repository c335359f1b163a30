import pytest
import torch
from diffusers import DDPMScheduler

from rewardsde import VPSchedule

pytestmark = pytest.mark.core


def test_from_diffusers_linear_ddpm_maps_to_continuous_betas():
    schedule = VPSchedule.from_diffusers(DDPMScheduler(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02))
    assert schedule.beta_min == pytest.approx(0.1)
    assert schedule.beta_max == pytest.approx(20.0)


@pytest.mark.parametrize(
    "scheduler",
    [
        DDPMScheduler(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02),
        DDPMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear"),
    ],
    ids=["linear", "scaled_linear"],
)
def test_continuous_alpha_bar_matches_the_discrete_product(scheduler):
    schedule = VPSchedule.from_diffusers(scheduler)
    betas = scheduler.betas.double()
    for step in (10, 250, 500, 999):
        s = torch.tensor((step + 1) / 1000, dtype=torch.float64)
        discrete = torch.log(scheduler.alphas_cumprod[step].double())
        # log Π(1 - β_i) = -Σβ_i - ½Σβ_i² - …; the continuous limit keeps the first term
        # up to a quadrature error of at most one step's β, so the gap is below ½Σβ_i² + β_step.
        gap = 0.5 * betas[: step + 1].pow(2).sum() + betas[step]
        assert abs(schedule.log_alpha_bar(s) - discrete) <= gap


@pytest.mark.parametrize("kind", ["linear", "scaled_linear"])
def test_schedule_round_trips_through_a_diffusers_config(kind):
    schedule = VPSchedule(0.85, 12.0, kind)
    again = VPSchedule.from_diffusers(DDPMScheduler(**schedule.to_diffusers_config(1000)))
    assert (again.beta_min, again.beta_max, again.kind) == pytest.approx((0.85, 12.0, kind))


def test_scaled_linear_log_alpha_bar_is_the_integral_of_beta():
    schedule = VPSchedule(0.85, 12.0, "scaled_linear")
    s = torch.linspace(0, 1, 2001, dtype=torch.float64)
    integral = torch.cumulative_trapezoid(schedule.beta(s), s)
    assert torch.allclose(schedule.log_alpha_bar(s[1:]), -integral, atol=1e-6)


def test_non_linear_diffusers_schedule_is_refused():
    with pytest.raises(ValueError, match="squaredcos_cap_v2"):
        VPSchedule.from_diffusers(DDPMScheduler(beta_schedule="squaredcos_cap_v2"))


@pytest.mark.parametrize(
    "s, integral",
    # ∫_0^s (0.1 + 19.9u) du = 0.1s + 9.95s², worked out by hand
    [(0.0, 0.0), (0.25, 0.646875), (0.5, 2.5375), (1.0, 10.05)],
)
def test_linear_schedule_has_the_closed_form_integral_of_beta(s, integral):
    schedule = VPSchedule(0.1, 20.0)
    s = torch.tensor(s, dtype=torch.float64)
    expected = torch.tensor(-integral, dtype=torch.float64)
    torch.testing.assert_close(schedule.log_alpha_bar(s), expected)
    torch.testing.assert_close(schedule.alpha_bar(s), expected.exp())
    torch.testing.assert_close(schedule.sigma(s), (1 - expected.exp()).sqrt())


def test_scaled_linear_schedule_integrates_beta_over_the_unit_interval():
    """With √β linear from p = √β_min to q = √β_max, ∫_0^1 β = (p² + pq + q²)/3."""
    schedule = VPSchedule(0.85, 12.0, "scaled_linear")
    integral = (0.85 + (0.85 * 12.0) ** 0.5 + 12.0) / 3
    torch.testing.assert_close(schedule.log_alpha_bar(torch.tensor(1.0, dtype=torch.float64)),
                               torch.tensor(-integral, dtype=torch.float64))


def test_sigma_rises_from_zero_to_one():
    schedule = VPSchedule(0.1, 20.0)
    sigma = schedule.sigma(torch.linspace(0, 1, 11, dtype=torch.float64))
    assert sigma[0] == 0 and (sigma.diff() > 0).all()


@pytest.mark.parametrize("beta_min, beta_max", [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_bad_betas_are_named(beta_min, beta_max):
    with pytest.raises(ValueError, match="beta_m"):
        VPSchedule(beta_min, beta_max)
