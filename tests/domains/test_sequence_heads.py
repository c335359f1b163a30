"""The x₀ heads of SequenceEps: the uniform-prior skip and the linear-chain (CRF) marginals."""

import itertools
import json

import pytest
import torch

from rewardsde import VPSchedule
from rewardsde.domains import SequenceEps, one_hot
from rewardsde.domains.chain_marginals import chain_log_marginals


def brute_force_marginals(unary: torch.Tensor, pairwise: torch.Tensor) -> torch.Tensor:
    """``p(y_j = k)`` of one chain ``(K, L)`` by summing ``exp(Σ u + Σ A)`` over all ``K^L`` sequences."""
    states, length = unary.shape
    weights, marginals = [], torch.zeros(states, length, dtype=unary.dtype)
    for y in itertools.product(range(states), repeat=length):
        score = sum(unary[y[j], j] for j in range(length)) + sum(pairwise[y[j], y[j + 1]] for j in range(length - 1))
        weights.append((y, score.exp()))
    total = sum(w for _, w in weights)
    for y, w in weights:
        marginals[list(y), range(length)] += w / total
    return marginals


def test_chain_marginals_are_those_of_the_enumerated_chain(generator):
    unary = torch.randn(3, 3, 5, generator=generator, dtype=torch.float64)
    pairwise = torch.randn(3, 3, generator=generator, dtype=torch.float64)
    pairwise[0, 2] = -torch.inf  # a banned transition stays banned
    marginals = chain_log_marginals(unary, pairwise).exp()
    for b in range(3):
        assert torch.allclose(marginals[b], brute_force_marginals(unary[b], pairwise), atol=1e-12)


def test_chain_marginals_keep_float32_accuracy_for_confident_logits_and_unreachable_states(generator):
    # x₀ logits near the end of sampling are confident (tens of nats apart); a float32 input must
    # still get the float64 recursion's marginals, and a state no transition enters keeps probability 0.
    unary = 40 * torch.randn(2, 3, 5, generator=generator, dtype=torch.float64)
    pairwise = 4 * torch.randn(3, 3, generator=generator, dtype=torch.float64)
    pairwise[:, 1] = -torch.inf
    exact = torch.stack([brute_force_marginals(unary[b], pairwise) for b in range(2)])
    marginals = chain_log_marginals(unary.float(), pairwise.float())
    assert marginals.dtype == torch.float32
    assert torch.allclose(marginals.exp().double(), exact, atol=1e-6)
    assert (marginals[:, 1, 1:].exp() == 0).all()


def test_a_flat_chain_is_independent_positions_and_bad_shapes_are_named(generator):
    unary = torch.randn(2, 4, 6, generator=generator)
    assert torch.allclose(chain_log_marginals(unary, torch.zeros(4, 4)), torch.log_softmax(unary, 1), atol=1e-6)
    with pytest.raises(ValueError, match=r"pairwise must have shape \(4, 4\).* got \(3, 3\)"):
        chain_log_marginals(unary, torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"unary must have shape \(batch, K, L\), got \(4, 6\)"):
        chain_log_marginals(unary[0], torch.zeros(4, 4))


def uniform_prior_posterior(x: torch.Tensor, s: torch.Tensor, schedule: VPSchedule) -> torch.Tensor:
    """``p(y_j = k | x_j)`` for independent uniform tokens, from the Gaussian likelihoods ``‖x_j - √ᾱ·c_k‖²``."""
    states = x.shape[1]
    codes = one_hot(torch.arange(states)[:, None], states).to(x)[:, :, 0]  # (K, K): row k is the code of k
    root, variance = schedule.alpha_bar(s).sqrt()[:, None, None, None], schedule.sigma(s).square()[:, None, None]
    distance = (x[:, None] - root * codes[None, :, :, None]).square().sum(2)  # (batch, K, L)
    return torch.softmax(-distance / (2 * variance), dim=1)


@pytest.mark.parametrize("head", ["skip", "chain"])
def test_the_untrained_network_is_the_denoiser_of_independent_uniform_tokens(generator, head):
    """With a zero output layer (and zero pairwise potentials) both heads give the exact posterior of
    each position on its own under a uniform prior, and ε̂ = (x - √ᾱ·(2p - 1))/σ."""
    schedule = VPSchedule(0.2, 15.0)
    net = SequenceEps(3, 4, channels=8, depth=1, parameterisation="x0", schedule=schedule, head=head).double()
    x = torch.randn(2, 3, 4, generator=generator, dtype=torch.float64)
    s = torch.tensor([0.05, 0.7], dtype=torch.float64)
    posterior = uniform_prior_posterior(x, s, schedule)
    assert torch.allclose(torch.softmax(net.logits(x, s), 1), posterior, atol=1e-12)
    root, sigma = schedule.alpha_bar(s).sqrt()[:, None, None], schedule.sigma(s)[:, None, None]
    assert torch.allclose(net(x, s), (x - root * (2 * posterior - 1)) / sigma, atol=1e-10)


def markov_posterior(x: torch.Tensor, s: torch.Tensor, transition: torch.Tensor, schedule: VPSchedule) -> torch.Tensor:
    """``p(y_j = k | x)`` for tokens from the Markov chain with uniform initial law and ``transition``, by
    enumerating every sequence: Bayes' rule with the Gaussian likelihoods of each position."""
    likelihood = uniform_prior_posterior(x, s, schedule).log()  # per-position log-likelihoods up to constants
    return torch.stack([brute_force_marginals(likelihood[b], transition.log()) for b in range(x.shape[0])])


def test_the_chain_head_can_be_the_exact_denoiser_of_markov_data(generator):
    """A chain (uniform initial law, a transition matrix with zeros) is denoised exactly by the chain head
    with A = log T and h = 0: the head's family contains the Bayes denoiser of Markov data."""
    schedule = VPSchedule()
    transition = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.0, 0.6, 0.4]], dtype=torch.float64)
    net = SequenceEps(3, 5, channels=8, depth=1, parameterisation="x0", schedule=schedule, head="chain").double()
    with torch.no_grad():
        net.backbone.transition.copy_(transition.log())
    x = torch.randn(2, 3, 5, generator=generator, dtype=torch.float64)
    s = torch.tensor([0.1, 0.4], dtype=torch.float64)
    exact = markov_posterior(x, s, transition, schedule)
    assert torch.allclose(net.logits(x, s).exp(), exact, atol=1e-10)


def test_gradients_reach_the_pairwise_potentials(generator):
    net = SequenceEps(3, 5, channels=8, depth=1, parameterisation="x0", head="chain")
    torch.nn.init.normal_(net.backbone.out.weight, generator=generator)
    torch.nn.init.normal_(net.backbone.transition, generator=generator)
    net(torch.randn(2, 3, 5, generator=generator), torch.rand(2, generator=generator)).square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


@pytest.mark.parametrize("head", ["skip", "chain"])
def test_heads_survive_a_save_bitwise(tmp_path, generator, head):
    schedule = VPSchedule(0.2, 15.0)
    net = SequenceEps(4, 6, channels=8, depth=2, kernel_size=3, parameterisation="x0", schedule=schedule, head=head)
    torch.nn.init.normal_(net.backbone.out.weight, generator=generator)
    if head == "chain":
        torch.nn.init.normal_(net.backbone.transition, generator=generator)
    net.save_pretrained(tmp_path / "model", schedule)
    loaded = SequenceEps.from_pretrained(tmp_path / "model")
    x, s = torch.randn(2, 4, 6, generator=generator), torch.rand(2, generator=generator)
    assert loaded.head == head and torch.equal(loaded(x, s), net(x, s))
    assert json.loads((tmp_path / "model" / "sequence_model.json").read_text())["head"] == head


def test_a_model_saved_before_the_heads_existed_loads_as_plain_logits(tmp_path, generator):
    """Directories written before ``head`` and ``pairwise`` existed lack both keys."""
    net = SequenceEps(4, 6, channels=8, depth=1, parameterisation="x0")
    torch.nn.init.normal_(net.backbone.out.weight, generator=generator)
    net.save_pretrained(tmp_path / "model", net.schedule)
    for name, key in [("sequence_model.json", "head"), ("backbone/config.json", "pairwise")]:
        config = json.loads((tmp_path / "model" / name).read_text())
        del config[key]
        (tmp_path / "model" / name).write_text(json.dumps(config))
    loaded = SequenceEps.from_pretrained(tmp_path / "model")
    x, s = torch.randn(2, 4, 6, generator=generator), torch.rand(2, generator=generator)
    assert loaded.head == "logits" and torch.equal(loaded(x, s), net(x, s))


def test_bad_heads_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"head must be one of .* got 'crf'"):
        SequenceEps(4, 6, parameterisation="x0", head="crf")
    with pytest.raises(ValueError, match=r"head='chain' needs parameterisation='x0', got 'eps'"):
        SequenceEps(4, 6, head="chain")
    net = SequenceEps(4, 6, channels=8, depth=1, parameterisation="x0", head="chain")
    net.save_pretrained(tmp_path / "model", net.schedule)
    config = json.loads((tmp_path / "model" / "sequence_model.json").read_text())
    (tmp_path / "model" / "sequence_model.json").write_text(json.dumps({**config, "head": "logits"}))
    with pytest.raises(ValueError, match="has head 'logits' but a backbone with pairwise=True"):
        SequenceEps.from_pretrained(tmp_path / "model")


def chain_at_temperature(net: SequenceEps, x: torch.Tensor, s: torch.Tensor, temperature: float) -> torch.Tensor:
    """``p_τ(y_j = k | x)`` by its definition: the chain's joint ``p(y | x)`` (trained, τ = 1) enumerated over all
    sequences, raised to ``1/τ``, normalised, then marginalised; ``(batch, K, L)``."""
    states, length = x.shape[1:]
    unary = net.logits(x, s) if net.head != "chain" else net._backbone(x, s) + net.emission(x, s)
    pairwise = net.backbone.transition if net.head == "chain" else torch.zeros(states, states, dtype=x.dtype)
    out = torch.zeros_like(x)
    for b in range(x.shape[0]):
        sequences = list(itertools.product(range(states), repeat=length))
        scores = torch.stack([sum(unary[b, y[j], j] for j in range(length))
                              + sum(pairwise[y[j], y[j + 1]] for j in range(length - 1)) for y in sequences])
        joint = torch.softmax(scores, 0) ** (1 / temperature)  # p(y) at τ = 1, then sharpened
        joint = joint / joint.sum()
        for y, weight in zip(sequences, joint):
            out[b, list(y), range(length)] += weight
    return out


@pytest.mark.parametrize("head", ["logits", "skip", "chain"])
@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_sampling_temperature_sharpens_the_whole_posterior_and_not_the_trained_logits(generator, head, temperature):
    """ε at temperature τ is that of the posterior over x₀-sequences raised to 1/τ (for the chain, the joint,
    not each marginal on its own), while the logits that pretraining fits stay those of τ = 1."""
    schedule = VPSchedule(0.2, 15.0)
    net = SequenceEps(3, 4, channels=8, depth=1, parameterisation="x0", schedule=schedule, head=head).double()
    for parameter in net.parameters():  # every weight from the seeded generator: the same net in any test order
        torch.nn.init.normal_(parameter, std=0.3, generator=generator)
    torch.nn.init.normal_(net.backbone.out.weight, std=0.1, generator=generator)  # no position decided already
    if head == "chain":
        torch.nn.init.normal_(net.backbone.transition, std=2.0, generator=generator)
    x = torch.randn(2, 3, 4, generator=generator, dtype=torch.float64)
    s = torch.tensor([0.5, 0.9], dtype=torch.float64)
    trained = net.logits(x, s)
    net.temperature = temperature
    sharpened = chain_at_temperature(net, x, s, temperature)
    root, sigma = schedule.alpha_bar(s).sqrt()[:, None, None], schedule.sigma(s)[:, None, None]
    assert torch.allclose(net(x, s), (x - root * (2 * sharpened - 1)) / sigma, atol=1e-10)
    assert torch.equal(net.logits(x, s), trained)
    if head == "chain":  # sharpening each marginal on its own is another law
        each = torch.softmax(trained / temperature, 1)
        assert (each - sharpened).abs().max() > 1e-3


def test_a_low_temperature_denoises_to_the_most_likely_sequence(generator):
    """As τ → 0 the sharpened chain puts its mass on the joint mode (Viterbi): what it leaves elsewhere is at
    most ``(K^L - 1)·exp(-gap/τ)``, with ``gap`` the mode's lead in log-probability over the runner-up."""
    net = SequenceEps(3, 4, channels=8, depth=1, parameterisation="x0", head="chain").double()
    for parameter in net.parameters():  # every weight from the seeded generator: the same chain in any test order
        torch.nn.init.normal_(parameter, std=0.5, generator=generator)
    torch.nn.init.normal_(net.backbone.transition, std=3.0, generator=generator)
    x, s = torch.randn(1, 3, 4, generator=generator, dtype=torch.float64), torch.tensor([0.3], dtype=torch.float64)
    unary = (net._backbone(x, s) + net.emission(x, s))[0]
    sequences = list(itertools.product(range(3), repeat=4))
    scores = torch.stack([sum(unary[y[j], j] for j in range(4))
                          + sum(net.backbone.transition[y[j], y[j + 1]] for j in range(3)) for y in sequences])
    top = scores.topk(2).values
    temperature = 0.02
    left = (len(sequences) - 1) * torch.exp(-(top[0] - top[1]) / temperature)
    mode = sequences[int(scores.argmax())]
    marginals = net.logits(x, s, temperature=temperature).exp()[0, list(mode), range(4)]
    assert (1 - marginals).max() <= left + 1e-12
    assert left < 0.01  # the bound says something for this chain


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_temperatures_are_named(temperature):
    with pytest.raises(ValueError, match="temperature must be positive and finite"):
        SequenceEps(4, 6, parameterisation="x0", temperature=temperature)
    with pytest.raises(ValueError, match=r"temperature 0.5 needs parameterisation='x0'.* got 'eps'"):
        SequenceEps(4, 6, parameterisation="eps", temperature=0.5)
