"""A lab in the loop: an oracle outside the process, answered through CSV files between runs."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor

from .oracle import Oracle
from .store import LabelStore, json_lines, row_key

FAILED = "failed"
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"


class LabelsPending(RuntimeError):
    """Designs were sent out and their labels are not back yet; the message says what to do."""


def design_id(x: Tensor) -> str:
    """A stable id of one design: 16 hex digits of a hash of its exact values (the same design, the same id)."""
    return hashlib.blake2b(row_key(x), digest_size=8).hexdigest()


def describe_design(x: Tensor) -> list[str]:
    """A readable form of each design of ``x`` ``(n, ...)``: for one-hot sequences ``(n, states, length)``
    the sequence (amino-acid letters for up to 20 states, else dash-separated state numbers), else the
    values separated by spaces, each written so that it reads back exactly."""
    if x.dim() == 3:
        states = x.argmax(1)
        if x.shape[1] <= len(AMINO_ACIDS):
            return ["".join(AMINO_ACIDS[s] for s in row.tolist()) for row in states]
        return ["-".join(str(s) for s in row.tolist()) for row in states]
    return [" ".join(repr(v) for v in row.tolist()) for row in x.flatten(1).double()]


class LabOracle(Oracle):
    """An oracle that is a lab: designs go out as a CSV, labels come back as a CSV.

    At the start of a round, :meth:`query` records every design it has not seen in the
    ledger ``<directory>/sent.jsonl`` (a design is sent out once, ever; the budget counts
    designs sent out, so it can never be exceeded), writes the round's designs that still
    wait for a label to ``<directory>/queries/round_<k>.csv`` (columns ``id``, ``design``:
    :func:`design_id` and :func:`describe_design`) and raises :class:`LabelsPending`. A
    :class:`rewardsde.lightning_modules.SeikoModule` then saves its state to
    :attr:`checkpoint` and stops; ``rewardsde seiko import-labels <directory> labels.csv``
    (:func:`import_labels`) stores the lab's answers, and the same ``rewardsde fit`` command
    resumes from the checkpoint. A design the lab marked ``failed`` is labelled infeasible
    (``infeasible_value``), as an in-process oracle labels a design whose reward is not finite.

    The labels live in ``<directory>/labels.jsonl``, the same :class:`LabelStore` as an
    in-process oracle's. The lab runs on one process (no DDP).

    Args:
        directory: the run's lab directory (queries, ledger, labels, checkpoint).
        budget: the most designs that may ever be sent out.
        infeasible_value: the label of a failed design.
        describe: ``x (n, ...) -> n strings`` for the CSV; default :func:`describe_design`
            (:class:`rewardsde.domains.DesignText` gives a saved model's SMILES or sequences).
    """

    def __init__(self, directory: str, budget: int, infeasible_value: float = -1.0,
                 describe: Callable[[Tensor], list[str]] | None = None) -> None:
        super().__init__(reward=None, budget=budget, infeasible_value=infeasible_value)
        self.directory = Path(directory)
        self.describe = describe or describe_design
        self.sent: dict[str, dict] = read_ledger(self.directory)

    @property
    def spent(self) -> int:
        """Designs sent out so far (labelled, failed or still at the lab)."""
        return len(self.sent)

    @property
    def checkpoint(self) -> Path:
        """Where a run waiting for labels keeps its state."""
        return self.directory / "state.ckpt"

    @property
    def store_path(self) -> Path:
        return self.directory / "labels.jsonl"

    def genuine(self, x: Tensor) -> tuple[Tensor, Tensor]:
        raise ValueError("a LabOracle has no in-process reward to evaluate samples with")

    def sent_batch(self, round_index: int) -> Tensor | None:
        """The designs sent out for round ``round_index``, in the order they were sent, or ``None``."""
        rows = [_design(r) for r in self.sent.values() if r["round"] == round_index]
        return torch.stack(rows) if rows else None

    def query(self, x: Tensor, round_index: int = 0) -> Tensor:
        """Labels of ``x`` from the store; designs never seen are sent out (ledger and CSV).

        Raises:
            BudgetExhaustedError: before anything is sent, if the new designs do not fit the budget.
            LabelsPending: when any design of ``x`` has no label yet.
        """
        ids = [design_id(row) for row in x]
        new = {i: row for i, row in zip(ids, x) if i not in self.sent}
        self.check_budget(len(new))
        if new:
            self.directory.mkdir(parents=True, exist_ok=True)
            settings = self.directory / "lab.json"
            if not settings.exists():
                settings.write_text(json.dumps({"budget": self.budget, "infeasible_value": self.infeasible_value}) + "\n")
            _drop_partial_line(self.directory / "sent.jsonl")
            with open(self.directory / "sent.jsonl", "a", encoding="utf-8") as file:
                for i, row in new.items():
                    record = {"id": i, "round": round_index, "x": row.detach().double().reshape(-1).tolist(),
                              "shape": list(row.shape)}
                    file.write(json.dumps(record) + "\n")
                    self.sent[i] = record
                file.flush()
                os.fsync(file.fileno())
        y, known = self.store.lookup(x)
        if known.all():
            return y.to(x.dtype)
        waiting = {i: row for i, row, ok in zip(ids, x, known.tolist()) if not ok}
        pending = torch.stack(list(waiting.values()))
        path = self.directory / "queries" / f"round_{round_index}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["id", "design"])
            writer.writerows(zip(waiting, self.describe(pending)))
        raise LabelsPending(
            f"round {round_index}: {len(pending)} designs wait for labels in {path} "
            f"({self.spent} of {self.budget} sent out). Measure them, write a CSV with columns id,label "
            f"(a number, or '{FAILED}'), run `rewardsde seiko import-labels {self.directory} <labels.csv>`, "
            "then run the same `rewardsde fit` command again to resume"
        )


def read_ledger(directory: Path) -> dict[str, dict]:
    """The designs sent out from ``directory``, by id, in the order sent."""
    path = Path(directory) / "sent.jsonl"
    sent: dict[str, dict] = {}
    for number, line in json_lines(path) if path.exists() else ():
        try:
            record = json.loads(line)
            sent[record["id"]] = record
        except (ValueError, KeyError, TypeError):
            if line.endswith("\n"):  # a last line cut short by a crash was never sent out
                raise ValueError(f"{path}:{number}: unreadable ledger line") from None
    return sent


@dataclass
class ImportReport:
    """What :func:`import_labels` stored: new labels, new failures, and the ids still at the lab."""

    labelled: int = 0
    failed: int = 0
    unchanged: int = 0
    waiting: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"stored {self.labelled} labels and {self.failed} failed designs ({self.unchanged} already stored)"
        if self.waiting:
            return text + f"; {len(self.waiting)} designs sent out still wait for labels: " + ", ".join(self.waiting[:5]) + (
                " ..." if len(self.waiting) > 5 else "")
        return text + "; every design sent out has its label: resume the run with the command that started it"


def import_labels(directory: str | Path, *paths: str | Path) -> ImportReport:
    """Store a lab's answers, all or nothing: ``paths`` are CSV files with columns ``id`` and ``label``
    (a number, or ``failed``: labelled with the run's ``infeasible_value``), in any order, in one file or
    several, with any subset of the designs.

    Every line is checked before anything is stored; a ``ValueError`` lists each problem with its file
    and line (an id never sent out by this run, a label that is not a number or ``failed``, an id given
    two different labels, in these files or against the store) and nothing is stored. A label already
    stored with the same value is skipped, so importing a file twice stores it once.
    """
    directory = Path(directory)
    sent = read_ledger(directory)
    if not sent:
        raise ValueError(f"{directory} has sent no designs out (no sent.jsonl): is it a lab run's directory?")
    infeasible_value = json.loads((directory / "lab.json").read_text())["infeasible_value"]
    store = LabelStore(directory / "labels.jsonl" if (directory / "labels.jsonl").exists() else None, write=False)
    answers: dict[str, tuple[float, bool, str, str]] = {}  # id -> (value, feasible, text, file:line)
    problems, known_ids = [], 0
    for path in map(Path, paths):
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            if reader.fieldnames is None or not {"id", "label"} <= set(reader.fieldnames):
                raise ValueError(f"{path}: needs a header with the columns id and label, got {reader.fieldnames}")
            for row in reader:
                where = f"{path}:{reader.line_num}"
                key, text = (row.get("id") or "").strip(), (row.get("label") or "").strip()
                if key not in sent:
                    problems.append(f"{where}: id {key!r} was never sent out from {directory}")
                    continue
                known_ids += 1
                if text.lower() == FAILED:
                    value, feasible = float(infeasible_value), False
                else:
                    try:
                        value, feasible = float(text), True
                    except ValueError:
                        value = math.nan
                    if not math.isfinite(value):
                        problems.append(f"{where}: label {text!r} of {key} is not a finite number or '{FAILED}'")
                        continue
                if key in answers and answers[key][:2] != (value, feasible):
                    problems.append(f"{where}: {key} is labelled {text!r} here and {answers[key][2]!r} at "
                                    f"{answers[key][3]}")
                    continue
                answers[key] = (value, feasible, text, where)
    for key, (value, _, text, where) in answers.items():
        stored, found = store.lookup(_design(sent[key])[None])
        if found.item() and float(stored) != value:
            problems.append(f"{where}: {key} is already stored with the label {float(stored)!r}, not {text!r}")
    if problems and known_ids == 0:
        raise ValueError(f"no id in {', '.join(map(str, paths))} was sent out from {directory}: "
                         "is this labels file for another run?")
    if problems:
        raise ValueError(f"nothing was stored; fix these {len(problems)} lines and import again:\n  " + "\n  ".join(problems))
    store.open(directory / "labels.jsonl", write=True)
    report = ImportReport()
    for key, (value, feasible, _, _) in answers.items():
        added = store.add(_design(sent[key])[None], torch.tensor([value], dtype=torch.float64), torch.tensor([feasible]))
        if not added:
            report.unchanged += 1
        elif feasible:
            report.labelled += 1
        else:
            report.failed += 1
    _, found = store.lookup(torch.stack([_design(r) for r in sent.values()]))
    report.waiting = [key for key, ok in zip(sent, found.tolist()) if not ok]
    return report


def _drop_partial_line(path: Path) -> None:
    """Cut a last line that a crash left without its newline: that design was never sent out."""
    if not path.exists() or not path.stat().st_size:
        return
    data = path.read_bytes()
    if not data.endswith(b"\n"):
        with open(path, "rb+") as file:
            file.truncate(data.rfind(b"\n") + 1)


def _design(record: dict) -> Tensor:
    return torch.tensor(record["x"], dtype=torch.float64).reshape(record["shape"])
