"""holo's genetic algorithm on an Ehrlich instance: best and mean genuine value against oracle queries.

:func:`genetic_algorithm` runs ``DiscreteEvolution`` (recombination 0.5, half the
population survives, and a mutation probability per token that is 0.2 by default,
holo's default, about six mutations per child of a length-32 sequence) from a given
starting population. Every generation evaluates the whole population of
``particles`` sequences, so after ``g`` generations it has spent ``g·particles``
oracle queries (the first generation is the starting population itself). Used by
:mod:`domains`, which starts it from holo's single initial solution, from fresh
samples of the instance's Markov process (the data the diffusion model was
pretrained on) and from the pretrained model's samples.
"""

from __future__ import annotations

import torch

from rewardsde.domains import EhrlichReward


def genetic_algorithm(
    reward: EhrlichReward, start: torch.Tensor, budgets: list[int], mutation_prob: float = 0.2, seed: int = 0,
    populations: list[torch.Tensor] | None = None,
) -> list[tuple[int, float, float]]:
    """``(queries, best value so far, mean value of the last population)`` at each budget in ``budgets``.

    Args:
        reward: the instance; its ``value`` (0 when infeasible) is the oracle.
        start: the starting population, integer tokens ``(particles, dim)``; its
            size is the population size.
        budgets: oracle-query budgets, each a positive multiple of ``particles``.
        mutation_prob: probability that a token of a child is redrawn uniformly.
        seed: seeds the mutations and recombinations.
        populations: if a list, the population evaluated at each budget (tokens) is appended to it.
    """
    from holo.optim import DiscreteEvolution

    particles = start.shape[0]
    if particles < 4 or start.dim() != 2:
        raise ValueError(f"start must be a population (particles >= 4, dim) of tokens, got {tuple(start.shape)}")
    if any(b < particles or b % particles for b in budgets):
        raise ValueError(f"budgets must be positive multiples of the population size {particles}, got {budgets}")
    torch.manual_seed(seed)
    solution = torch.nn.Parameter(start[0].float())
    optimiser = DiscreteEvolution([solution], vocab=[list(range(reward.num_states))], num_particles=particles,
                                   mutation_prob=mutation_prob)
    optimiser.state[solution]["particles"] = start.float().clone()
    evaluated: list[torch.Tensor] = []

    current: list[torch.Tensor] = []

    def closure(buffers: list[torch.Tensor]) -> torch.Tensor:
        current[:] = [buffers[0].long().clone()]
        evaluated.append(reward.value(current[0]))
        return -evaluated[-1]

    best, rows = -float("inf"), []
    for generation in range(1, max(budgets) // particles + 1):
        optimiser.step(closure)
        best = max(best, evaluated[-1].max().item())
        if generation * particles in budgets:
            rows.append((generation * particles, best, evaluated[-1].mean().item()))
            if populations is not None:
                populations.append(current[0])
    return rows
