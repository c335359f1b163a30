"""The markdown table that every benchmark prints."""

from __future__ import annotations

from typing import Sequence


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
