import pytest
from rdkit import Chem

from rewardsde.domains import SelfiesAlphabet, learn_fragments, moses_smiles

BENZENE_RING = "[C][=C][C][=C][C][=C][Ring1][=Branch1]"


def canonical(smiles: str) -> str:
    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


def test_byte_pair_encoding_joins_the_most_frequent_pair_and_stops_when_no_pair_repeats():
    rows = [["[A]", "[B]", "[C]"], ["[A]", "[B]", "[D]"], ["[A]", "[B]"], ["[D]", "[A]"]]
    # (A, B) occurs 3 times, (B, C), (B, D), (D, A) once; after the join every pair occurs once
    assert learn_fragments(rows, 5) == ["[A][B]"]
    assert learn_fragments(rows, 0) == []


def test_runs_of_one_symbol_learn_longer_runs_in_order():
    # C C C -> [CC, C] and C C C C -> [CC, CC] after (C, C); then (CC, C) and (CC, CC) tie at 2 and the pair
    # seen first wins; then (CC, CC) is the only pair left that repeats
    rows = [["[C]"] * 3, ["[C]"] * 3, ["[C]"] * 4, ["[C]"] * 4]
    assert learn_fragments(rows, 10) == ["[C][C]", "[C][C][C]", "[C][C][C][C]"]


def test_a_molecule_is_split_by_joining_the_fragments_in_their_order():
    alphabet = SelfiesAlphabet(["[C]", "[=C]", "[C][=C]", "[C][=C][C]"], 4)
    # [C][=C] joins first, left to right; no adjacent pair then spells [C][=C][C]
    assert alphabet.split(["[C]", "[=C]", "[C]", "[=C]"]) == ["[C][=C]", "[C][=C]"]
    assert alphabet.split(["[=C]", "[C]", "[=C]", "[C]"]) == ["[=C]", "[C][=C][C]"]
    assert alphabet.split(["[C]", "[C]"]) == ["[C]", "[C]"]
    with pytest.raises(ValueError, match=r"'\[O\]'"):
        alphabet.split(["[C]", "[O]"])


@pytest.fixture(scope="module")
def subset() -> list[str]:
    return moses_smiles(400, seed=1)


def test_fragments_round_trip_molecules_in_fewer_tokens_and_survive_saving(subset):
    plain = SelfiesAlphabet.from_smiles(subset)
    fragmented = SelfiesAlphabet.from_smiles(subset, fragments=40)
    assert fragmented.num_states == plain.num_states + 40
    assert fragmented.length < plain.length
    x = fragmented.encode(subset)
    assert [canonical(s) for s in fragmented.decode(x)] == [canonical(s) for s in subset]
    # the benzene ring with its closure, the commonest ring of MOSES, becomes one token
    assert BENZENE_RING in fragmented.tokens
    assert fragmented.token_ids(["c1ccccc1"])[0, 1:].eq(0).all()
    # what a saved model keeps (its tokens and length) encodes the same way
    reloaded = SelfiesAlphabet(fragmented.tokens, fragmented.length)
    assert (reloaded.encode(subset) == x).all()


def test_bad_fragment_counts_are_named(subset):
    with pytest.raises(ValueError, match="fragments"):
        SelfiesAlphabet.from_smiles(subset[:5], fragments=-1)
    with pytest.raises(ValueError, match="count"):
        learn_fragments([["[C]"]], -2)
