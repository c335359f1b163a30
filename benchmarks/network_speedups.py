"""Speed-ups of the drift's network that were tried on CPU: torch.compile, channels-last, one LoRA call.

    .venv/bin/python benchmarks/network_speedups.py            # about 8 min on one CPU thread

Two tables, on the tasks of ``benchmarks/gradient_cost.py`` (the MLP correction on the
mixture prior, batch 512; the digits UNet with LoRA rank 4, batch 16):

* **variants of the network**: eager, channels-last memory format (UNet only) and
  ``torch.compile`` of the network's forward, timed on one sampling solve and one
  direct-backprop training step at N = 50 (medians of 3 after a warm-up), with the
  time of the first calls, which for ``torch.compile`` includes compiling (into an
  empty inductor cache, so every run compiles from cold);
* **one UNet call for both drifts**: :class:`rewardsde.LoraCorrection` evaluates the
  pretrained ε (adapters off) and the fine-tuned ε (adapters on) in two calls on the
  batch; one call on the doubled batch ``[x, x]`` is the most that sharing the forward
  pass could save (it runs the adapters on both halves, so it is a bound, not a
  working implementation). Timed forward only and forward plus backward, medians of 15.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from typing import Callable

os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="inductor-")  # compile from cold, every run

import torch
from _common import markdown_table
from gradient_cost import BACKENDS, build, one_step

STEPS = 50


def median_time(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(seconds of the first call, median seconds of ``repeats`` later calls)."""
    start = time.perf_counter()
    run()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def network_variants() -> list[list[object]]:
    rows = []
    for task, variants in (("mlp", ("eager", "torch.compile")), ("unet", ("eager", "channels-last", "torch.compile"))):
        for variant in variants:
            sde, reward, batch = build(task, "pretrained/digits")
            network = sde.correction.network if task == "mlp" else sde.reference.network.unet
            if variant == "channels-last":
                network.to(memory_format=torch.channels_last)
            if variant == "torch.compile":
                network.forward = torch.compile(network.forward)
            options = BACKENDS["direct"]
            sample_first, sample = median_time(lambda: one_step(sde, reward, batch, STEPS, options, False), 3)
            train_first, train = median_time(lambda: one_step(sde, reward, batch, STEPS, options, True), 3)
            rows.append([task, variant, sample, train, sample_first + train_first])
    return rows


def one_lora_call() -> list[list[object]]:
    sde, _, _ = build("unet", "pretrained/digits")
    reference, correction = sde.reference, sde.correction
    t = torch.tensor(0.3)
    rows = []
    for batch in (16, 64):
        x = torch.randn(batch, *reference.event_shape)

        def two_calls() -> list[torch.Tensor]:
            with correction.adapters_disabled():
                pretrained = reference.eps(t, x)
            return [pretrained, reference.eps(t, x)]

        def one_call() -> list[torch.Tensor]:
            return list(reference.eps(t, torch.cat([x, x])).chunk(2))

        for backward in (False, True):
            def timed(run: Callable[[], list[torch.Tensor]]) -> float:
                def step() -> None:
                    with torch.set_grad_enabled(backward):
                        outputs = run()
                        if backward:
                            sum(output.sum() for output in outputs).backward()

                return median_time(step, 15)[1]

            two, one = timed(two_calls), timed(one_call)
            rows.append([batch, "forward and backward" if backward else "forward", two * 1e3, one * 1e3, one / two])
    return rows


def main() -> None:
    torch.manual_seed(0)
    print(f"Variants of the network, N = {STEPS}, {torch.get_num_threads()} torch thread(s):\n")
    header = ["task", "variant", "sample (s)", "train step (s)", "first sample + train, incl. compiling (s)"]
    print(markdown_table(header, network_variants()))
    print("\nOne UNet call on [x, x] against two calls (adapters off, on):\n")
    header = ["batch", "pass", "two calls (ms)", "one call (ms)", "one / two"]
    print(markdown_table(header, one_lora_call()))


if __name__ == "__main__":
    main()
