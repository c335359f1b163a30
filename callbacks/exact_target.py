"""Compare a fine-tuned model with the exact target of an analytic task."""

from __future__ import annotations

import json
import math
from pathlib import Path

import lightning as L

from rewardsde.analytic import target_distance_dict

REPORT_FILE = "exact_target.json"
COLUMNS = (
    ("run", "{}"),
    ("reward", "{:.3f}"),
    ("target_reward", "{:.3f}"),
    ("kl_estimate", "{:.3f}"),
    ("kl_stderr", "{:.1e}"),
    ("exact_kl", "{:.3f}"),
    ("mean_error", "{:.3f}"),
    ("sliced_wasserstein", "{:.3f}"),
    ("sliced_wasserstein_floor", "{:.3f}"),
    ("weight_tv", "{:.3f}"),
)


def exact_report(module: L.LightningModule, samples: int = 4000, seed: int = 12345, alpha: float | None = None) -> dict:
    """Sample ``module`` and measure it against the exact tilt of its analytic prior.

    Needs ``module.sde.tilted`` (the analytic priors) and a quadratic reward.
    ``alpha`` defaults to the module's; with no positive α (the no-KL baseline)
    the target columns are NaN.

    Returns:
        reward (mean r over the samples), target_reward (E_{p*}[r]), kl_estimate and
        kl_stderr (Girsanov estimate E[∫½‖a‖² + ∫½‖b‖²] and its standard error),
        exact_kl (KL(p* ‖ p_pre)), and the fields of
        :class:`rewardsde.analytic.TargetDistance` (without the weight TV when the
        target has a single component).
    """
    rollout = module.rollout(samples, seed=seed)
    kl = rollout.kl.double()
    report = {
        "reward": module.reward(rollout.x).double().mean().item(),
        "kl_estimate": kl.mean().item(),
        "kl_stderr": (kl.std() / math.sqrt(samples)).item(),
    }
    alpha = module.hparams.alpha if alpha is None else alpha
    if alpha > 0:
        target = module.sde.tilted(module.reward, alpha)
        report |= {"target_reward": target.expected(module.reward).item(), "exact_kl": target.kl_to_prior().item()}
        report |= target_distance_dict(rollout.x, target, seed=seed)
    return report


def format_table(rows: list[dict]) -> str:
    """A markdown table of reports; a figure missing from some rows shows as ``-``,
    and one missing from all rows is left out."""
    columns = [(name, fmt) for name, fmt in COLUMNS if any(name in row for row in rows)]
    lines = ["| " + " | ".join(name for name, _ in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [fmt.format(row[name]) if name in row else "-" for name, fmt in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


class ExactTargetReport(L.Callback):
    """At the end of training, report the distance to the exact target.

    Writes ``exact_target.json`` into the logger's directory (when there is one)
    and prints a one-row table; :class:`SampleEvaluation` logs the same distances
    to TensorBoard during training.

    Args:
        samples: number of samples drawn for the report.
        seed: seed of the samples and of the reference target sample.
    """

    def __init__(self, samples: int = 4000, seed: int = 12345) -> None:
        self.samples = samples
        self.seed = seed

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        log_dir = trainer.log_dir  # a broadcast under DDP: every rank must ask
        if not trainer.is_global_zero:
            return
        report = exact_report(module, self.samples, self.seed)
        report["run"] = log_dir or "(no log directory)"
        if log_dir:
            directory = Path(log_dir)
            directory.mkdir(parents=True, exist_ok=True)
            (directory / REPORT_FILE).write_text(json.dumps(report, indent=2))
        print(format_table([report]))
