"""An append-only store of oracle labels, in memory and in a JSON-lines file."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import torch
from torch import Tensor


FINGERPRINT = "fingerprint"
ABSENT = object()


def _flatten(fingerprint: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}} -> {"a.b": 1}``."""
    flat = {}
    for key, value in fingerprint.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _describe(fingerprint: dict, keys: list[str] | None = None) -> str:
    """``key=value, ...`` of a fingerprint (nested keys joined by dots; only ``keys`` if given)."""
    flat = _flatten(fingerprint)
    return ", ".join(f"{key}={_short(flat.get(key, ABSENT))}" for key in (flat if keys is None else keys))


def _differences(there: dict, here: dict) -> tuple[str, str]:
    """The values of the keys where two fingerprints differ, in each: ``("key=1, ...", "key=2, ...")``;
    only the top-level keys when the ``domain`` differs (the nested ones then mean different things)."""
    a, b = _flatten(there), _flatten(here)
    keys = [key for key in [*a, *(k for k in b if k not in a)] if a.get(key, ABSENT) != b.get(key, ABSENT)]
    if "domain" in keys:
        keys = [key for key in keys if "." not in key]
    return _describe(there, keys), _describe(here, keys)


def _short(value: object) -> str:
    text = "(absent)" if value is ABSENT else repr(value)
    return text if len(text) <= 40 else f"{text[:36]} ...{text[-1]}"


def json_lines(path: Path):
    """``(line number, line)`` for every non-blank line of a JSON-lines file, numbered from 1."""
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if line.strip():
                yield number, line


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

    A store with a ``fingerprint`` (a JSON-able dict naming what its labels are
    labels of, e.g. the :class:`rewardsde.domains.SequenceDomain` of an Ehrlich
    instance) writes it as a line ``{"fingerprint": {...}}`` before the first label
    of a new file, and refuses, with a ``ValueError`` naming both, a file or a
    checkpoint that carries another one. A file without a fingerprint line (written
    before stores had one, or by a store without a fingerprint) opens as before; a
    store with a fingerprint that writes to it warns that the labels there cannot be
    checked and appends its fingerprint, so the file is checked from then on. A store
    without a fingerprint takes the one of the first file it reads.

    Args:
        path: the JSON-lines file; ``None`` keeps the labels in memory only.
        write: append new labels to ``path`` (under DDP only rank 0 writes).
        fingerprint: what the labels are labels of; ``None``: not known (nothing is checked).
    """

    def __init__(self, path: str | Path | None = None, write: bool = True, fingerprint: dict | None = None) -> None:
        self.x: list[Tensor] = []
        self.y: list[float] = []
        self.feasible: list[bool] = []
        self._index: dict[bytes, int] = {}
        self.path: Path | None = None
        self._write = False
        self.fingerprint = fingerprint
        if path is not None:
            self.open(path, write)

    def __len__(self) -> int:
        return len(self.y)

    def open(self, path: str | Path, write: bool = True) -> None:
        """Use ``path``: read the labels already there (a corrupt line is warned
        about with its line number and skipped), then append new labels to it.

        Raises:
            ValueError: when the file carries another fingerprint than this store's.
        """
        path = Path(path)
        on_file, marked = self._read(path) if path.exists() else (set(), False)
        self.path, self._write = path, write
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._end_last_line()
            if self.fingerprint is not None and not marked:
                if on_file:
                    warnings.warn(
                        f"label store {self.path} has no fingerprint: its {len(on_file)} labels are taken to be of "
                        f"{_describe(self.fingerprint)}, which is recorded there now"
                    )
                self._append_record({FINGERPRINT: self.fingerprint})
            for x, y, feasible in zip(self.x, self.y, self.feasible):
                if row_key(x) not in on_file:
                    self._append_line(x, y, feasible)

    def _read(self, path: Path) -> tuple[set[bytes], bool]:
        """Add the labels of ``path`` once its fingerprint is checked; returns the keys
        of every readable line and whether the file carries a fingerprint."""
        records, fingerprints = [], []
        for number, line in json_lines(path):
            try:
                record = json.loads(line)
                if isinstance(record, dict) and record.keys() == {FINGERPRINT}:
                    fingerprints.append(record[FINGERPRINT])
                    continue
                x = torch.tensor(record["x"], dtype=torch.float64).reshape(record["shape"])
                y, feasible = float(record["y"]), bool(record["feasible"])
            except (ValueError, KeyError, TypeError, RuntimeError) as error:
                warnings.warn(f"{path}:{number}: unreadable label line skipped ({error}); the other lines are kept")
                continue
            records.append((x, y, feasible))
        for fingerprint in fingerprints:
            self.check_fingerprint(fingerprint, f"label store {path}")
        keys = set()
        for x, y, feasible in records:
            self._remember(x, y, feasible)
            keys.add(row_key(x))
        return keys, bool(fingerprints)

    def check_fingerprint(self, fingerprint: dict | None, source: str) -> None:
        """Raise ``ValueError`` when ``fingerprint`` (of ``source``) differs from this
        store's, naming the values that differ; a store without one takes it."""
        if fingerprint is None:
            return
        if self.fingerprint is None:
            self.fingerprint = fingerprint
        elif fingerprint != self.fingerprint:
            there, here = _differences(fingerprint, self.fingerprint)
            raise ValueError(
                f"{source} holds labels of another instance: it was written for {there}, this store is for {here}; "
                "give this run its own label file"
            )

    def merge_file(self, path: str | Path) -> int:
        """Add (and write) the labels of another store file, e.g. the one of the run
        being resumed; returns how many were new here. A file of another fingerprint
        is refused (``ValueError``)."""
        other = LabelStore(fingerprint=self.fingerprint)
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
        self._append_record({"x": x.reshape(-1).tolist(), "shape": list(x.shape), "y": y, "feasible": feasible})

    def _append_record(self, record: dict) -> None:
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
        """Plain tensors and strings (the fingerprint as JSON, ``""`` for none), loadable
        with ``torch.load(weights_only=True)``."""
        x, y, feasible = self.tensors()
        fingerprint = json.dumps(self.fingerprint) if self.fingerprint is not None else ""
        return {"x": x, "y": y, "feasible": feasible, "path": str(self.path or ""), FINGERPRINT: fingerprint}

    def load_state_dict(self, state: dict) -> int:
        """Add the labels of a checkpoint and of the file it names; returns how many were new.
        A checkpoint of another fingerprint is refused (``ValueError``); one without
        (written before stores had one) is taken as it is."""
        if state.get(FINGERPRINT):
            self.check_fingerprint(json.loads(state[FINGERPRINT]), "the checkpoint's label store")
        added = self.merge_file(state["path"]) if state.get("path") else 0
        if state["y"].numel():
            added += self.add(state["x"], state["y"], state["feasible"])
        return added
