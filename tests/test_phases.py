"""PhaseSchedule: which phase a step is in, over rounds, and its cosine learning-rate factor."""

import math

import pytest

from rewardsde import PhaseSchedule

pytestmark = pytest.mark.core


def test_spans_over_two_rounds_are_exact():
    schedule = PhaseSchedule(drift_steps=3, value_steps=2, initial_steps=1, rounds=2)
    assert schedule.round_length == 6 and schedule.total_steps == 12
    expected = ["drift"] * 3 + ["value"] * 2 + ["initial"]
    assert [schedule.phase(k) for k in range(13)] == expected * 2 + [None]
    span = schedule.span(10)
    assert (span.phase, span.start, span.end, span.round) == ("value", 9, 11, 1)
    assert schedule.span(3).lr_factor == 1.0
    # Step 4 is the second of a 2-step phase: ½(1 + cos(π/2)) = ½.
    assert schedule.span(4).lr_factor == pytest.approx(0.5)


def test_fixed_initial_law_has_only_the_drift_phase():
    schedule = PhaseSchedule(drift_steps=4)
    assert schedule.phases == ("drift",) and [schedule.phase(k) for k in range(5)] == ["drift"] * 4 + [None]
    # The cosine of a 4-step phase: ½(1 + cos(πk/4)).
    assert [schedule.span(k).lr_factor for k in range(4)] == pytest.approx(
        [0.5 * (1 + math.cos(math.pi * k / 4)) for k in range(4)])


def test_phase_optimiser_count_gives_the_same_factor_as_the_global_step():
    """LambdaLR counts one phase's own steps across rounds; its factor must equal the span's."""
    schedule = PhaseSchedule(drift_steps=5, value_steps=3, initial_steps=4, rounds=3)
    counts = {phase: 0 for phase in schedule.phases}
    for step in range(schedule.total_steps):
        span = schedule.span(step)
        assert schedule.phase_lr_factor(span.phase, counts[span.phase]) == span.lr_factor
        counts[span.phase] += 1
    assert counts == {"drift": 15, "value": 9, "initial": 12}


@pytest.mark.parametrize("kwargs, message", [
    (dict(drift_steps=0), "drift_steps must be positive, got 0"),
    (dict(drift_steps=2, value_steps=3), "value_steps and initial_steps must both be 0"),
    (dict(drift_steps=2, rounds=0), "rounds must be positive, got 0"),
])
def test_bad_lengths_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PhaseSchedule(**kwargs)


def test_unknown_phase_and_negative_step_are_named():
    schedule = PhaseSchedule(drift_steps=2)
    with pytest.raises(ValueError, match="phase must be one of \\('drift',\\), got 'value'"):
        schedule.phase_lr_factor("value", 0)
    with pytest.raises(ValueError, match="step must be non-negative, got -1"):
        schedule.span(-1)
