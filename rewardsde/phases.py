"""ELEGANT's phase schedule as a pure function of the optimiser step."""

from __future__ import annotations

import math
from dataclasses import dataclass

PHASES = ("drift", "value", "initial")


def cosine_factor(step: int, length: int) -> float:
    """Learning-rate factor ``½(1 + cos(π·min(step/length, 1)))``: 1 at step 0, 0 at ``length``."""
    progress = min(max(step, 0) / length, 1.0)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class PhaseSpan:
    """Where one optimiser step lies.

    Attributes:
        phase: ``"drift"``, ``"value"`` or ``"initial"``.
        start, end: the phase's first step and the step after its last (global steps).
        round: the round, from 0 (ELEGANT runs one round; SEIKO one per query batch).
        lr_factor: the phase's cosine decay at this step, ``½(1 + cos(π(step - start)/(end - start)))``.
    """

    phase: str
    start: int
    end: int
    round: int
    lr_factor: float


class PhaseSchedule:
    """The phases of ELEGANT, repeated for ``rounds`` rounds.

    A round is ``drift_steps`` steps of the drift phase, then (when the initial law
    is learned) ``value_steps`` of value regression and ``initial_steps`` of the
    auxiliary control. Step ``k`` of the run lies in round ``⌊k / L⌋`` with
    ``L = drift_steps + value_steps + initial_steps``; every phase decays its
    learning rate by a cosine from 1 to 0 over its own length, afresh each round.
    Everything is a function of ``k`` alone, so a resumed run continues in the
    right phase at the right learning rate.

    Args:
        drift_steps: steps of the drift phase; positive.
        value_steps, initial_steps: steps of the value and initial-law phases;
            both 0 (fixed initial law) or both positive.
        rounds: rounds of phases; positive.
    """

    def __init__(self, drift_steps: int, value_steps: int = 0, initial_steps: int = 0, rounds: int = 1) -> None:
        if drift_steps < 1:
            raise ValueError(f"drift_steps must be positive, got {drift_steps}")
        if (value_steps == 0) != (initial_steps == 0):
            raise ValueError(
                f"value_steps and initial_steps must both be 0 (fixed initial law) or both positive, "
                f"got {value_steps} and {initial_steps}"
            )
        for name, value in (("value_steps", value_steps), ("initial_steps", initial_steps), ("rounds", rounds)):
            if value < 0 or (name == "rounds" and value < 1):
                raise ValueError(f"{name} must be positive, got {value}")
        lengths = {"drift": drift_steps, "value": value_steps, "initial": initial_steps}
        self.lengths = {name: steps for name, steps in lengths.items() if steps > 0}
        self.rounds = rounds

    @property
    def phases(self) -> tuple[str, ...]:
        """The phases of one round, in order."""
        return tuple(self.lengths)

    @property
    def round_length(self) -> int:
        """Optimiser steps of one round."""
        return sum(self.lengths.values())

    @property
    def total_steps(self) -> int:
        """Optimiser steps of the whole run."""
        return self.rounds * self.round_length

    def span(self, step: int) -> PhaseSpan | None:
        """The :class:`PhaseSpan` of global ``step``; ``None`` once every round is done."""
        if step < 0:
            raise ValueError(f"step must be non-negative, got {step}")
        if step >= self.total_steps:
            return None
        index, offset = divmod(step, self.round_length)
        start = index * self.round_length
        for phase, length in self.lengths.items():
            if offset < length:
                return PhaseSpan(phase, start, start + length, index, cosine_factor(offset, length))
            offset -= length
            start += length
        raise AssertionError("unreachable: the step lies inside a round")

    def phase(self, step: int) -> str | None:
        """The phase of ``step``; ``None`` once every round is done."""
        span = self.span(step)
        return None if span is None else span.phase

    def phase_lr_factor(self, phase: str, count: int) -> float:
        """The learning-rate factor of the ``count``-th step (from 0, over all rounds) that
        ``phase``'s optimiser takes: the cosine restarts every round. Equal to
        ``span(k).lr_factor`` at the global step ``k`` of that optimiser step, and the
        function to give ``torch.optim.lr_scheduler.LambdaLR``."""
        if phase not in self.lengths:
            raise ValueError(f"phase must be one of {self.phases}, got {phase!r}")
        length = self.lengths[phase]
        return cosine_factor(count % length, length)
