import torch

from rewardsde import DriftCorrection, NetworkCorrection
from rewardsde.analytic import BrownianPrior, LinearReward
from rewardsde.callbacks import exact_report, format_table
from rewardsde.lightning_modules import ElegantModule, NoKLModule


class ConstantControl(DriftCorrection):
    """``a(t, x) ≡ a``: on ``dx = dW`` from ``N(0, 1)`` the end is ``N(a, 2)``, and every path
    pays ``∫_0^1 ½a² dt = ½a²``, the exact KL of the path law to the reference's."""

    def __init__(self, a: float):
        super().__init__()
        self.a = a

    def forward(self, t, x):
        return self.reference.drift(t, x), torch.full_like(x, self.a)


def _module(cls=ElegantModule, correction=None, **kwargs):
    torch.manual_seed(0)
    correction = NetworkCorrection(hidden=8) if correction is None else correction
    return cls(BrownianPrior(1), correction, LinearReward([1.0]), steps=4, drift_steps=2, **kwargs)


def test_constant_control_reports_its_exact_kl_and_shifted_reward():
    """With ν fixed, the KL estimate is ½a² on every path; the reward r(x) = x has mean ``a``
    (to 5 standard errors, √(2/n)), and the target N(b·(s² + c)/α, 2) = N(4, 2) is
    KL(N(4, 2) ‖ N(0, 2)) = 4²/(2·2) = 4 from the prior and 4 - a away from the samples' mean."""
    a, n = 1.5, 2000
    report = exact_report(_module(correction=ConstantControl(a), alpha=0.5, learn_initial=False), samples=n, seed=0)
    assert abs(report["kl_estimate"] - 0.5 * a**2) < 1e-6
    assert report["kl_stderr"] < 1e-6
    assert abs(report["reward"] - a) < 5 * (2 / n) ** 0.5
    assert report["exact_kl"] == 4.0 and report["target_reward"] == 4.0
    assert abs(report["mean_error"] - (4.0 - a)) < 5 * (2 / n) ** 0.5


def test_no_kl_baseline_has_no_target_unless_given_an_alpha():
    module = _module(NoKLModule)
    assert "exact_kl" not in exact_report(module, samples=100)
    assert exact_report(module, samples=100, alpha=0.5)["exact_kl"] == 4.0
    table = format_table([exact_report(module, samples=100), exact_report(module, samples=100, alpha=0.5)])
    assert "| - |" in table and "exact_kl" in table
    assert "exact_kl" not in format_table([exact_report(module, samples=100)])
