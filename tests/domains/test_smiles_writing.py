import pytest
from rdkit import Chem

from rewardsde.domains import moses_smiles, ring_span, rings_first


@pytest.mark.parametrize("smiles, span", [
    ("CCO", 0),                  # no ring
    ("c1ccccc1", 5),             # benzene: the closing atom is 5 atoms after the opening one
    ("c1ccc(C)cc1", 6),          # toluene, the methyl written inside the ring walk
    ("c1ccc(cc1)C", 5),          # toluene, the ring closed before the methyl
    ("Cc1ccccc1", 5),
    ("c1ccc2ccccc2c1", 14),      # naphthalene: 9 + 5
    ("C%10CCCCC%10", 5),         # a two-digit ring bond label
    ("[nH]1cccc1", 4),           # a bracket atom opens the ring
    ("ClC1CC1Br", 2),            # two-letter atoms count once
])
def test_ring_span_counts_the_atoms_each_ring_bond_spans(smiles, span):
    assert ring_span(smiles) == span


def test_an_unclosed_ring_bond_is_named():
    with pytest.raises(ValueError, match=r"unclosed ring bond\(s\) \['1'\]"):
        ring_span("c1ccccc")


def test_the_chosen_writings_are_the_same_molecules_with_no_longer_spans():
    given = moses_smiles(200, seed=5)
    written = rings_first(given, tries=16, seed=0)
    assert [Chem.CanonSmiles(w) for w in written] == [Chem.CanonSmiles(g) for g in given]
    assert all(ring_span(w) <= ring_span(g) for w, g in zip(written, given))
    assert sum(map(ring_span, written)) < 0.75 * sum(map(ring_span, given)), "most MOSES rings close sooner"
    assert rings_first(given, tries=16, seed=0) == written, "seeded: the same writings again"
    assert rings_first(given[100:], tries=16, seed=0) == written[100:], "each molecule's writing is its own"


def test_a_substituent_written_inside_a_ring_moves_after_it():
    assert ring_span(rings_first(["c1ccc(C)cc1"], tries=32)[0]) == 5


def test_no_tries_keeps_the_given_writing_and_bad_input_is_named():
    assert rings_first(["c1ccc(C)cc1", "CCO"], tries=0) == ["c1ccc(C)cc1", "CCO"]
    with pytest.raises(ValueError, match=r"SMILES 1 \('C1CC'\) is not a molecule"):
        rings_first(["CCO", "C1CC"])
    with pytest.raises(ValueError, match="non-negative, got tries=-1, seed=0"):
        rings_first(["CCO"], tries=-1)
    with pytest.raises(ValueError, match="non-negative, got tries=32, seed=-1"):
        rings_first(["CCO"], seed=-1)
