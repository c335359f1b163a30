"""Print the exact-target reports of finished runs as one table.

    python -m rewardsde.callbacks.report lightning_logs/elegant_gaussian lightning_logs/fixed_nu_gaussian

reads the ``exact_target.json`` that :class:`rewardsde.callbacks.ExactTargetReport`
wrote into each log directory (the newest ``version_*`` when given a run name).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .exact_target import REPORT_FILE, format_table


def newest_report(path: Path) -> dict:
    """The report in ``path``, or in its newest ``version_*`` folder."""
    if (path / REPORT_FILE).exists():
        return json.loads((path / REPORT_FILE).read_text())
    versions = sorted(path.glob(f"version_*/{REPORT_FILE}"), key=lambda p: int(p.parent.name.split("_")[1]))
    if not versions:
        raise FileNotFoundError(f"no {REPORT_FILE} under {path}; run training with the ExactTargetReport callback")
    return json.loads(versions[-1].read_text())


def main(paths: list[str]) -> None:
    print(format_table([newest_report(Path(p)) for p in paths]))


if __name__ == "__main__":
    main(sys.argv[1:])
