import pytest
import torch
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from rewardsde.domains import MorganFeatures, SelfiesAlphabet, one_hot

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
BENZENE = "c1ccccc1"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"


@pytest.fixture(scope="module")
def alphabet() -> SelfiesAlphabet:
    return SelfiesAlphabet.from_smiles([ASPIRIN, BENZENE, CAFFEINE])


def test_benzene_has_three_atom_environments(alphabet):
    """All six carbons of benzene are equivalent, so ECFP4 sees one environment per radius 0, 1, 2."""
    z = MorganFeatures(alphabet)(alphabet.encode([BENZENE]))
    assert z.shape == (1, 2048) and set(z.unique().tolist()) == {0.0, 1.0}
    assert z.sum().item() == 3


def test_features_are_the_fingerprint_of_the_decoded_molecule(alphabet):
    """Through the one-hot code and back, the bits equal RDKit's fingerprint of the SMILES itself, so the
    Tanimoto similarity of two feature rows is that of the two molecules."""
    z = MorganFeatures(alphabet)(alphabet.encode([ASPIRIN, CAFFEINE]))
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    prints = [generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in (ASPIRIN, CAFFEINE)]
    assert z[0].nonzero().flatten().tolist() == list(prints[0].GetOnBits())
    tanimoto = (z[0] * z[1]).sum() / ((z[0] + z[1]) > 0).sum()
    assert tanimoto.item() == pytest.approx(DataStructs.TanimotoSimilarity(*prints))


def test_an_empty_molecule_is_the_zero_vector_and_nothing_is_differentiable(alphabet):
    empty = one_hot(torch.zeros(1, alphabet.length, dtype=torch.long), alphabet.num_states)
    x = torch.cat([empty, alphabet.encode([ASPIRIN])]).requires_grad_(True)
    z = MorganFeatures(alphabet, radius=1, bits=512)(x)
    assert z.shape == (2, 512) and z[0].sum() == 0 and z[1].sum() > 0 and not z.requires_grad


def test_bad_input_is_named(alphabet):
    with pytest.raises(ValueError, match="radius and cache must be non-negative and bits positive"):
        MorganFeatures(alphabet, bits=0)
    with pytest.raises(ValueError, match="SELFIES alphabet"):
        MorganFeatures(alphabet)(torch.zeros(2, alphabet.num_states + 1, alphabet.length))
    with pytest.raises(ValueError, match="cache=-1"):
        MorganFeatures(alphabet, cache=-1)


def test_the_cache_changes_no_bit_and_keeps_only_the_newest(alphabet):
    """Cached rows equal freshly computed ones, in any order and with repeats; a cache of 2 keeps the
    last two molecules it computed, dropping the oldest."""
    x = alphabet.encode([ASPIRIN, BENZENE, CAFFEINE])
    fresh = MorganFeatures(alphabet, cache=0)(x)
    cached = MorganFeatures(alphabet, cache=2)
    assert torch.equal(cached(x), fresh)
    kept = {key for key in cached._seen}
    assert kept == {row.to(torch.int16).numpy().tobytes() for row in alphabet.token_ids([BENZENE, CAFFEINE])}
    again = cached(x[[2, 0, 2, 1]])
    assert torch.equal(again, fresh[[2, 0, 2, 1]])
    assert cached(x[:0]).shape == (0, 2048)
