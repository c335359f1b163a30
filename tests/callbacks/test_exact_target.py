import torch

from rewardsde import NetworkCorrection
from rewardsde.analytic import BrownianPrior, LinearReward
from rewardsde.callbacks import exact_report, format_table
from rewardsde.lightning_modules import ElegantModule, NoKLModule


def _module(cls=ElegantModule, **kwargs):
    torch.manual_seed(0)
    return cls(BrownianPrior(1), NetworkCorrection(hidden=8), LinearReward([1.0]), steps=4, drift_steps=2, **kwargs)


def test_untrained_fixed_law_module_reports_the_prior(capsys):
    report = exact_report(_module(alpha=0.5, learn_initial=False), samples=2000, seed=0)
    assert abs(report["reward"]) < 0.15  # prior N(0, 2): mean reward 0 ± 3 standard errors
    assert report["kl_estimate"] == 0.0
    assert report["exact_kl"] == 4.0 and report["target_reward"] == 4.0
    assert abs(report["mean_error"] - 4.0) < 0.15


def test_no_kl_baseline_has_no_target_unless_given_an_alpha():
    module = _module(NoKLModule)
    assert "exact_kl" not in exact_report(module, samples=100)
    assert exact_report(module, samples=100, alpha=0.5)["exact_kl"] == 4.0
    table = format_table([exact_report(module, samples=100), exact_report(module, samples=100, alpha=0.5)])
    assert "| - |" in table and "exact_kl" in table
    assert "exact_kl" not in format_table([exact_report(module, samples=100)])
