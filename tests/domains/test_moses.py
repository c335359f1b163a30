import gzip
import sys
from collections import Counter

import pytest

from rewardsde.domains import moses_path, moses_smiles, reservoir


def test_subsets_are_seeded_distinct_rows_of_the_training_file_read_without_importing_moses():
    first, again, other = moses_smiles(300, seed=0), moses_smiles(300, seed=0), moses_smiles(300, seed=1)
    assert first == again and first != other and len(set(first)) == 300
    missing = set(first)
    with gzip.open(moses_path("train"), "rt") as lines:
        assert next(lines).strip() == "SMILES"
        for line in lines:
            missing.discard(line.strip())
    assert not missing, "every row of a subset is a row of the training file"
    assert "moses" not in sys.modules


def test_reservoir_is_uniform_and_exact_on_short_streams():
    counts = Counter(item for seed in range(2000) for item in reservoir(range(50), 5, seed))
    assert set(counts) == set(range(50))
    assert max(counts.values()) < 1.35 * 200 and min(counts.values()) > 0.65 * 200
    assert sorted(reservoir(range(4), 4, seed=0)) == [0, 1, 2, 3]
    assert sorted(reservoir(range(3), 5, seed=0)) == [0, 1, 2]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="split must be one of"):
        moses_path("valid")
    with pytest.raises(ValueError, match="size must be positive, got 0"):
        moses_smiles(0)
