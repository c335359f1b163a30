"""An append-only store of oracle labels, in memory and in a JSON-lines file."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import torch
from torch import Tensor


def row_key(x: Tensor) -> bytes:
    """The exact identity of one sample: the bytes of its float64 values (shape included)."""
    row = x.detach().to("cpu", torch.float64).contiguous()
    return repr(tuple(row.shape)).encode() + row.numpy().tobytes()


class LabelStore:
    """Labels ``(x, y)`` that were paid for, keyed by the exact values of ``x``.

    Each label lives in memory and, once :meth:`open` names a file, as one line
    ``{"x": [...], "shape": [...], "y": ..., "feasible": ...}`` of that file,
    written and flushed as it arrives (``os.fsync`` after each batch), so a crash
    loses nothing that was answered. Float64 values survive JSON exactly, so a
    reloaded ``x`` has the same key as the sample that was queried. The order of
    the labels is the order they arrived in.

    Args:
        path: the JSON-lines file; ``None`` keeps the labels in memory only.
        write: append new labels to ``path`` (under DDP only rank 0 writes).
    """

    def __init__(self, path: str | Path | None = None, write: bool = True) -> None:
        self.x: list[Tensor] = []
        self.y: list[float] = []
        self.feasible: list[bool] = []
        self._index: dict[bytes, int] = {}
        self.path: Path | None = None
        self._write = False
        if path is not None:
            self.open(path, write)

    def __len__(self) -> int:
        return len(self.y)

    def open(self, path: str | Path, write: bool = True) -> None:
        """Use ``path``: read the labels already there (a corrupt line is warned
        about with its line number and skipped), then append new labels to it."""
        self.path = Path(path)
        self._write = write
        on_file = self._read(self.path) if self.path.exists() else set()
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._end_last_line()
            for x, y, feasible in zip(self.x, self.y, self.feasible):
                if row_key(x) not in on_file:
                    self._append_line(x, y, feasible)

    def _read(self, path: Path) -> set[bytes]:
        """Add the labels of ``path``; returns the keys of every readable line."""
        keys = set()
        with open(path, encoding="utf-8") as file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    x = torch.tensor(record["x"], dtype=torch.float64).reshape(record["shape"])
                    y, feasible = float(record["y"]), bool(record["feasible"])
                except (ValueError, KeyError, TypeError, RuntimeError) as error:
                    warnings.warn(f"{path}:{number}: unreadable label line skipped ({error}); the other lines are kept")
                    continue
                self._remember(x, y, feasible)
                keys.add(row_key(x))
        return keys

    def merge_file(self, path: str | Path) -> int:
        """Add (and write) the labels of another store file, e.g. the one of the run
        being resumed; returns how many were new here."""
        other = LabelStore()
        if Path(path).exists():
            other._read(Path(path))
        return self.add(*other.tensors())

    def _end_last_line(self) -> None:
        """Close a last line cut short by a crash, so new lines start on their own."""
        if self.path.exists() and self.path.stat().st_size:
            with open(self.path, "rb+") as file:
                file.seek(-1, os.SEEK_END)
                if file.read(1) != b"\n":
                    file.write(b"\n")

    def _append_line(self, x: Tensor, y: float, feasible: bool) -> None:
        record = {"x": x.reshape(-1).tolist(), "shape": list(x.shape), "y": y, "feasible": feasible}
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(json.dumps(record) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def _remember(self, x: Tensor, y: float, feasible: bool) -> int:
        key = row_key(x)
        if key in self._index:
            return 0
        self._index[key] = len(self.y)
        self.x.append(x.detach().to("cpu", torch.float64))
        self.y.append(float(y))
        self.feasible.append(bool(feasible))
        return 1

    def add(self, x: Tensor, y: Tensor, feasible: Tensor | None = None) -> int:
        """Record labels ``y`` ``(n,)`` of samples ``x`` ``(n, ...)``; rows already
        stored are ignored. Returns the number of new labels."""
        if y.shape != (x.shape[0],):
            raise ValueError(f"need one label per sample: x has {x.shape[0]} rows, y has shape {tuple(y.shape)}")
        feasible = torch.ones_like(y, dtype=torch.bool) if feasible is None else feasible
        added = 0
        for row, value, ok in zip(x, y.tolist(), feasible.tolist()):
            if self._remember(row, value, ok):
                added += 1
                if self._write:
                    self._append_line(self.x[-1], value, ok)
        return added

    def lookup(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Stored labels of the rows of ``x``: ``(y (n,), known (n,) bool)``; unknown rows get 0."""
        indices = [self._index.get(row_key(row), -1) for row in x]
        known = torch.tensor([i >= 0 for i in indices], dtype=torch.bool)
        y = torch.tensor([self.y[i] if i >= 0 else 0.0 for i in indices], dtype=torch.float64)
        return y, known

    def tensors(self) -> tuple[Tensor, Tensor, Tensor]:
        """All labels in arrival order: ``x (n, ...)`` and ``y (n,)`` in float64, ``feasible (n,)``."""
        if not self.y:
            return torch.zeros(0, dtype=torch.float64), torch.zeros(0, dtype=torch.float64), torch.zeros(0, dtype=torch.bool)
        return torch.stack(self.x), torch.tensor(self.y, dtype=torch.float64), torch.tensor(self.feasible)

    def state_dict(self) -> dict:
        """Plain tensors and strings, loadable with ``torch.load(weights_only=True)``."""
        x, y, feasible = self.tensors()
        return {"x": x, "y": y, "feasible": feasible, "path": str(self.path or "")}

    def load_state_dict(self, state: dict) -> int:
        """Add the labels of a checkpoint and of the file it names; returns how many were new."""
        added = self.merge_file(state["path"]) if state.get("path") else 0
        if state["y"].numel():
            added += self.add(state["x"], state["y"], state["feasible"])
        return added
