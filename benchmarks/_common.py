"""What several benchmarks share: the markdown table every one prints, mean ± s.e. cells, the curves figure,
SEIKO's tilted rounds."""

from __future__ import annotations

import math
import statistics
from typing import Iterator, Sequence


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table; floats show three decimals, or three significant digits below 0.1; ``None`` shows as ``-``."""

    def cell(value: object) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.3f}" if value == 0 or 0.0995 <= abs(value) < 1e4 else f"{value:.3g}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def mean_se(values: Sequence[float | None], fmt: str = "{:.3g}", se_fmt: str = "{:.2g}") -> str:
    """``mean ± standard error`` of the values present (``-`` if none), with how many are missing."""
    present = [v for v in values if v is not None]
    if not present:
        return "-"
    text = fmt.format(statistics.fmean(present))
    if len(present) > 1:
        text += " ± " + se_fmt.format(statistics.stdev(present) / math.sqrt(len(present)))
    return text + (f" ({len(values) - len(present)} never)" if len(present) < len(values) else "")


def curves_figure(rows: Sequence[dict], by: str, panels: Sequence[tuple[str, str]], path, label=str,
                  levels: dict | None = None, limits: dict | None = None) -> None:
    """One panel per ``(key, title)`` of ``panels``: ``row[key]`` against ``row["step"]``, one line per
    value of ``row[by]`` (labelled ``label(value)``), with ``levels[key] = (y, text)`` drawn as a dashed
    line and ``limits[key] = (low, high)`` as the y-range; saved to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3 * len(panels), 3.4))
    axes = fig.subplots(1, len(panels))
    for value in dict.fromkeys(r[by] for r in rows):
        mine = [r for r in rows if r[by] == value]
        for ax, (key, title) in zip(axes, panels):
            ax.plot([r["step"] for r in mine], [r[key] for r in mine], marker="o", label=label(value))
            ax.set(xlabel="optimiser step", title=title)
    for ax, (key, _) in zip(axes, panels):
        if key in (levels or {}):
            ax.axhline(levels[key][0], color="grey", linestyle="--", label=levels[key][1])
        if key in (limits or {}):
            ax.set_ylim(*limits[key])
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def tilted_seiko_rounds(loop, objective, rounds: int, steps: int, lr: float, seed: int,
                        first=None) -> Iterator[int]:
    """Run SEIKO's rounds with the tilted estimator, yielding each round's index when it ends.

    Round ``i``: ``loop.begin(i)`` (a :class:`rewardsde.SeikoRound`: sample, buy labels, refit the
    reward model, rescore the pool; round 0 buys the designs ``first`` instead when given), then
    ``steps`` AdamW steps (no weight decay: the :class:`rewardsde.DenoiserCorrection`'s own) of
    ``objective``'s denoising loss at batch 128 with the learning rate ``lr`` decayed by a cosine
    restarted every round.
    """
    import torch

    from rewardsde import DenoiserCorrection
    from rewardsde.phases import cosine_factor

    optimiser = torch.optim.AdamW(objective.network.parameters(), lr=lr, weight_decay=DenoiserCorrection.weight_decay)
    for index in range(rounds):
        loop.begin(index, batch=first if index == 0 else None)
        decay = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: cosine_factor(step, steps))
        for step in range(steps):
            optimiser.zero_grad()
            objective.drift_loss(128, seed=seed * 10**6 + index * 10**4 + step).value.backward()
            optimiser.step()
            decay.step()
        yield index
