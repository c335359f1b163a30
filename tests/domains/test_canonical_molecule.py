import pytest
import selfies as sf
import torch
from rdkit import Chem

from rewardsde.domains import PAD, CanonicalMolecule, SelfiesAlphabet, one_hot, snap

TOLUENE = ("Cc1ccccc1", "c1ccc(C)cc1", "c1cc(C)ccc1")  # one molecule, three writings
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"


@pytest.fixture(scope="module")
def alphabet() -> SelfiesAlphabet:
    return SelfiesAlphabet.from_smiles([*TOLUENE, ASPIRIN, CAFFEINE], length=40)


def spelt(alphabet: SelfiesAlphabet, symbols: list[str]) -> torch.Tensor:
    """The ±1 code of a SELFIES written symbol by symbol, padded with [nop]."""
    ids = [alphabet.index[s] for s in symbols] + [0] * (alphabet.length - len(symbols))
    return one_hot(torch.tensor([ids]), alphabet.num_states)


def test_the_writings_of_one_molecule_are_one_design(alphabet):
    """Three SMILES of toluene give three different SELFIES designs; all map to the SELFIES of RDKit's
    canonical SMILES, which the alphabet spells as encoding that SMILES does."""
    x = alphabet.encode(list(TOLUENE))
    assert len({tuple(row.argmax(0).tolist()) for row in x}) == 3
    image = CanonicalMolecule(alphabet)(x)
    canonical = alphabet.encode([Chem.MolToSmiles(Chem.MolFromSmiles(TOLUENE[0]))])
    assert torch.equal(image, canonical.expand_as(image))


def test_a_nop_inside_a_design_changes_the_spelling_not_the_molecule(alphabet):
    """SELFIES skips [nop] wherever it stands, so a [nop] between two symbols is another design of the
    same molecule; the map sends it where the plain design goes."""
    symbols = list(sf.split_selfies(sf.encoder(ASPIRIN)))
    padded = spelt(alphabet, symbols[:3] + [PAD] + symbols[3:])
    plain = spelt(alphabet, symbols)
    assert alphabet.decode(padded) == alphabet.decode(plain) and not torch.equal(padded, plain)
    canonical = CanonicalMolecule(alphabet)
    assert torch.equal(canonical(padded), canonical(plain))


def test_different_molecules_stay_different_and_the_map_is_idempotent(alphabet, generator):
    """Aspirin, caffeine and toluene stay three designs; mapping twice is mapping once; a noisy design
    (a sample near its code, not on it) maps as its snapped code does."""
    canonical = CanonicalMolecule(alphabet)
    x = alphabet.encode([ASPIRIN, CAFFEINE, TOLUENE[1]])
    once = canonical(x)
    assert len({tuple(row.argmax(0).tolist()) for row in once}) == 3
    assert torch.equal(canonical(once), once)
    noisy = x + 0.3 * torch.randn(x.shape, generator=generator)
    assert torch.equal(snap(noisy), x) and torch.equal(canonical(noisy), once)


def test_a_design_with_no_molecule_keeps_its_spelling(alphabet):
    """All [nop] decodes to no atoms: there is no canonical writing, so the design is its own image."""
    empty = one_hot(torch.zeros(1, alphabet.length, dtype=torch.long), alphabet.num_states)
    assert torch.equal(CanonicalMolecule(alphabet)(empty), empty)


def test_a_writing_the_alphabet_cannot_spell_keeps_the_design(alphabet):
    """When the writing holds a symbol outside the alphabet ([Cl]) or is longer than the designs,
    there is nothing to spell, and each design stays as it is spelt."""
    x = alphabet.encode(list(TOLUENE[:2]))
    for writing in ("Clc1ccccc1", "C" * (alphabet.length + 1)):
        assert writing not in TOLUENE
        image = CanonicalMolecule(alphabet, lambda smiles: [writing] * len(smiles))(x)
        assert torch.equal(image, x)


def test_the_models_writing_is_applied_after_canonicalisation(alphabet):
    """``written`` rewrites the canonical SMILES before encoding: here every toluene becomes its
    second writing."""
    written = lambda smiles: [TOLUENE[1] if s == "Cc1ccccc1" else s for s in smiles]  # noqa: E731
    image = CanonicalMolecule(alphabet, written)(alphabet.encode(list(TOLUENE)))
    assert torch.equal(image, alphabet.encode([TOLUENE[1]]).expand_as(image))


def test_a_design_of_the_wrong_shape_is_refused(alphabet):
    with pytest.raises(ValueError, match="expected designs of shape"):
        CanonicalMolecule(alphabet)(torch.zeros(2, alphabet.num_states + 1, alphabet.length))
