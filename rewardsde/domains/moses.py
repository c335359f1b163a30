"""MOSES SMILES read from the installed ``molsets`` wheel, without importing ``moses``."""

from __future__ import annotations

import gzip
import importlib.util
import itertools
import math
import random
from pathlib import Path

SPLITS = ("train", "test", "test_scaffolds")


def moses_path(split: str = "train") -> Path:
    """The path of ``moses/dataset/data/<split>.csv.gz`` inside the installed ``molsets`` package.

    The package is located with :func:`importlib.util.find_spec`, which does not run
    its ``__init__`` (that would need molsets' dependencies, which do not build).

    Raises:
        ValueError: for an unknown split.
        FileNotFoundError: when molsets is not installed, with the command that installs it.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    spec = importlib.util.find_spec("moses")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / "dataset" / "data" / f"{split}.csv.gz"
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"the MOSES {split} set was not found; install it with `pip install --no-deps molsets==0.3.1`"
    )


def reservoir(rows, size: int, seed: int) -> list:
    """A uniform random subset of ``size`` items of the iterable ``rows``, in one pass.

    Li's Algorithm L: after the reservoir fills, the gap to the next replaced item is
    geometric, ``⌊log u / log(1 - w)⌋`` with ``w ← w·u^{1/size}``, so only about
    ``size·(1 + log(N/size))`` random numbers are drawn for ``N`` rows and the rows in
    between are skipped unread into memory. The order of the result is random.
    """
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    rng = random.Random(seed)
    rows = iter(rows)
    chosen = list(itertools.islice(rows, size))
    weight = math.exp(math.log(1.0 - rng.random()) / size)
    while True:
        skip = math.floor(math.log(1.0 - rng.random()) / math.log1p(-weight))
        row = next(itertools.islice(rows, skip, None), None)
        if row is None:
            break
        chosen[rng.randrange(size)] = row
        weight *= math.exp(math.log(1.0 - rng.random()) / size)
    rng.shuffle(chosen)
    return chosen


def moses_smiles(size: int, seed: int = 0, split: str = "train") -> list[str]:
    """A seeded uniform subset of ``size`` SMILES from a MOSES split (train: 1,584,663 rows),
    streamed from the gzip file without holding the whole split in memory.

    Raises:
        ValueError: when the split has fewer than ``size`` rows.
    """
    with gzip.open(moses_path(split), "rt") as lines:
        header = next(lines).strip()
        if header != "SMILES":
            raise ValueError(f"unexpected header {header!r} in the MOSES {split} file")
        smiles = [line.strip() for line in reservoir(lines, size, seed)]
    if len(smiles) < size or not all(smiles):
        raise ValueError(f"the MOSES {split} set has fewer than {size} rows")
    return smiles
