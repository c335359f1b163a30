"""What one fine-tuning step costs, per gradient back end and number of solver steps N.

    .venv/bin/python benchmarks/gradient_cost.py                     # mlp and unet, N = 10 … 200
    .venv/bin/python benchmarks/gradient_cost.py --tasks mlp --steps 25 100
    .venv/bin/python benchmarks/gradient_cost.py --tasks sd --steps 50 --device cuda --autocast \
        --backends "adjoint RH" "adjoint Euler" direct "direct ckpt" --figure docs/figures/gradient_cost_gpu.png

For each task, back end and N, a fresh process builds the model, then times

* ``sample``: one solve with the same solver and no gradients (the floor: N drift calls);
* ``train``: one training step, i.e. the solve, ``α·∫½‖a‖² − r(x_T)`` and its backward;

and reports their ratio and the peak memory the step added: on CPU the peak resident
size (``ru_maxrss``) minus the resident size after set-up, on CUDA
``torch.cuda.max_memory_allocated`` during the training steps minus what was
allocated before them. Times are the median of ``--repeats`` runs
after one warm-up. A step cannot cost less than about 3× sampling (forward, plus a
backward of about twice the forward).

Back ends: ``adjoint RH`` (reversible Heun with its exact adjoint,
:func:`rewardsde.reversible_adjoint.reversible_heun_adjoint`), ``adjoint RH, torchsde's``
(the same solve and gradients through ``torchsde.sdeint_adjoint``'s
``adjoint_reversible_heun``, which calls the drift twice per backward step), ``adjoint Euler``
(Itô Euler forward and adjoint), ``direct`` and ``direct ckpt`` (backprop through an
Euler solve, storing or recomputing each drift call's activations), ``truncated 1``
(DRaFT-1: backprop through the last step only), ``reference loop``: a plain
hand-written Euler–Maruyama loop with backprop and no library around it (the
AlignProp/DRaFT style), written here only for comparison, and ``Adjoint Matching``
(:class:`rewardsde.AdjointMatchingObjective`: an Euler path without gradients, the
lean adjoint by N vector-Jacobian products of the reference drift, and the regression
at all N times, or at 10 for ``Adjoint Matching, 10 times``). Every cell also times
the reference loop, alternating with the back end in the same process, and the table
gives the back end's training step and gradient-free solve over the loop's
(``× loop``): the loop is the floor a library adds overhead to.

Tasks: ``mlp``, the 2-D Gaussian-mixture prior with its exact score and an MLP drift
correction (width 256, depth 3), batch 512; ``unet``, the digits UNet
(``pretrained/digits`` if it exists, else the same architecture with random weights)
with LoRA (rank 4) on its convolutions, batch 16; ``sd``, a Stable-Diffusion-1.5-shaped
``UNet2DConditionModel`` (random weights, 4×64×64 latents, a random 77×768 text
embedding) with LoRA (rank 4) on its attention projections and the reward
``-mean(x²)``, batch 4, meant for a GPU (``--device cuda``, ``--autocast`` for bf16).
Writes a log-log figure of time and memory against N (``docs/figures/gradient_cost.png``).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import torch
import torchsde
from _common import markdown_table
from matplotlib.figure import Figure

from rewardsde import (
    AdjointMatchingObjective, ControlledSDE, DDPMPipelineSDE, DiffusersEps, DriftCorrection, FineTunedSampler,
    LoraCorrection, NetworkCorrection, PretrainedSDE, ReferenceSDE, VPSchedule, solve,
)
from rewardsde.analytic import GaussianMixturePrior, LinearReward
from rewardsde.images import DigitReward

matplotlib.use("Agg")

ALPHA = 1.0
BACKENDS = {
    "adjoint RH": {"backend": "adjoint", "method": "reversible_heun"},
    "adjoint RH, torchsde's": {"backend": "adjoint", "method": "reversible_heun", "torchsde": True},
    "adjoint Euler": {"backend": "adjoint", "method": "euler"},
    "direct": {"backend": "direct", "method": "euler"},
    "direct ckpt": {"backend": "direct", "method": "euler", "checkpoint": True},
    "truncated 1": {"backend": "truncated", "method": "euler", "truncate": 1},
    "reference loop": {"method": "euler"},
    "Adjoint Matching": {"adjoint_matching": None},
    "Adjoint Matching, 10 times": {"adjoint_matching": 10},
}
TASKS = ("mlp", "unet", "sd")


class LatentEnergy(torch.nn.Module):
    """``r(x) = -mean(x²)`` per sample: a cheap differentiable reward on latents."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -x.pow(2).flatten(1).mean(1)


def build(task: str, pipeline: str) -> tuple[ReferenceSDE, DriftCorrection, torch.nn.Module, int]:
    """The reference SDE, the drift correction, the reward and the batch size of ``task``."""
    torch.manual_seed(0)
    if task == "sd":
        from diffusers import UNet2DConditionModel

        unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768)
        reference = PretrainedSDE(DiffusersEps(unet), (4, 64, 64), VPSchedule(0.85, 12.0, "scaled_linear"))
        correction = LoraCorrection(["to_q", "to_k", "to_v", "to_out.0"], rank=4)
        return reference, correction, LatentEnergy(), 4
    if task == "mlp":
        prior = GaussianMixturePrior([0.5, 0.3, 0.2], [[-1.5, 0.0], [1.5, 0.0], [0.0, 2.0]], [0.5] * 3)
        return prior, NetworkCorrection(hidden=256, depth=3), LinearReward([1.0, 0.0]), 512
    if Path(pipeline).is_dir():
        sde = DDPMPipelineSDE(pipeline)
    else:
        from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

        unet = UNet2DModel(
            sample_size=8, in_channels=1, out_channels=1, block_out_channels=(32, 64), layers_per_block=1,
            down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"), norm_num_groups=8,
        )
        random_dir = Path("lightning_logs") / "gradient_cost_random_unet"
        DDPMPipeline(unet=unet, scheduler=DDPMScheduler(clip_sample=False)).save_pretrained(str(random_dir))
        sde = DDPMPipelineSDE(str(random_dir))
    return sde, LoraCorrection(["conv1", "conv2"], rank=4), DigitReward(8, train_size=50), 16


def reference_loop(sde: ControlledSDE, x0: torch.Tensor, steps: int, generator: torch.Generator) -> tuple:
    """Euler–Maruyama by hand: ``x += h(f + σa) + σ√h·ξ`` and ``c += h·½‖a‖²``, all on the autograd tape."""
    reference = sde.reference
    h = (reference.t1 - reference.t0) / steps
    x, cost = x0, x0.new_zeros(x0.shape[0])
    for k in range(steps):
        t = torch.tensor(reference.t0 + k * h, dtype=x0.dtype)
        drift, control = sde.correction(t, x)
        sigma = reference.diffusion(t)
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        x = x + h * (drift + sigma * control) + sigma * h**0.5 * noise
        cost = cost + h * 0.5 * control.flatten(1).pow(2).sum(1)
    return x, cost


def torchsde_reversible_heun_adjoint(sde, y0, steps, brownian, params) -> torch.Tensor:
    """What ``solve`` does for ``adjoint RH``, through torchsde's ``adjoint_reversible_heun`` instead."""
    grid = torch.tensor([0.0, float(steps)], dtype=y0.dtype)
    return torchsde.sdeint_adjoint(
        sde, y0, grid, bm=brownian, method="reversible_heun", adjoint_method="adjoint_reversible_heun", dt=1.0,
        adjoint_params=params,
    )[-1]


class _Identity(torch.nn.Module):
    """A drift correction that costs nothing: ``(x, x)``, so a solve times only what is around the network."""

    def forward(self, t, x):
        return x, x


def overhead(steps: int = 100, repeats: int = 200) -> dict:
    """Microseconds per step that the library's gradient-free Euler solve and the bare loop spend
    *around* the network: both on the ``mlp`` task's prior and batch with the network replaced by
    ``(x, x)``, alternating, the minimum of ``repeats`` each (noise only adds time, and these solves
    are short enough to repeat often). Their difference over the loop's step time with the network
    is the library's share of a sampling step, measured without the run-to-run noise of the
    seconds-long solves."""
    reference, _, _, batch = build("mlp", "")
    sde = ControlledSDE(reference, NetworkCorrection(hidden=8))
    sde.correction = _Identity()
    x0 = reference.sample_initial(batch)
    library = lambda: solve(sde, x0, steps, seed=0, backend="direct", method="euler")  # noqa: E731
    bare = lambda: reference_loop(sde, x0, steps, torch.Generator().manual_seed(0))  # noqa: E731
    times = {"library": [], "loop": []}
    with torch.no_grad():
        for repeat in range(repeats + 1):
            for name, solve_once in (("library", library), ("loop", bare))[:: 1 if repeat % 2 else -1]:
                start = time.perf_counter()
                solve_once()
                if repeat:  # the first is a warm-up
                    times[name].append(time.perf_counter() - start)
    return {f"{name}_us_per_step": 1e6 * min(values) / steps for name, values in times.items()}


def one_step(sde: ControlledSDE, reward, batch: int, steps: int, options: dict, grad: bool,
             matching: AdjointMatchingObjective | None = None) -> None:
    """One training step (``grad``) or one gradient-free solve of ``options``' back end."""
    if matching is not None and grad:
        matching.drift_loss(batch, seed=0).value.backward()
        return
    x0 = sde.reference.sample_initial(batch)
    with torch.set_grad_enabled(grad):
        if "adjoint_matching" in options:
            end = solve(sde, x0, steps, seed=0, backend="direct", method="euler")
            x, cost = end.x, end.running_cost
        elif "backend" in options:
            solver = {k: v for k, v in options.items() if k not in ("checkpoint", "torchsde")}
            if not grad:
                solver = {"backend": "direct", "method": options["method"]}
            end = solve(sde, x0, steps, seed=0, **solver)
            x, cost = end.x, end.running_cost
        else:
            x, cost = reference_loop(sde, x0, steps, torch.Generator().manual_seed(0))
        if grad:
            (ALPHA * cost - reward(x)).mean().backward()


def measure(task: str, backend: str, steps: int, repeats: int, pipeline: str, device: str, autocast: bool) -> dict:
    """Run in a fresh process: times and the peak memory that training added.

    The memory is read first, from two training steps of this back end alone. Then the
    back end and the bare ``reference loop`` alternate, ``repeats`` times each, so that
    their ratio compares runs of one process on the same machine state (CPU timings of
    separate processes differ by ±15% here), and which of the two goes first alternates too.

    On CUDA the memory is ``torch.cuda.max_memory_allocated`` during the training
    steps minus what was allocated before them; on CPU it is the peak resident size.
    ``autocast`` runs the steps under bf16 autocast.
    """
    reference, correction, reward, batch = build(task, pipeline)
    options = BACKENDS[backend]
    matching = None
    if "adjoint_matching" in options:
        sampler = FineTunedSampler(reference, correction, steps=steps, method="euler", backend="direct")
        matching = AdjointMatchingObjective(sampler, reward, ALPHA, time_samples=options["adjoint_matching"])
        sde = sampler.controlled
    else:
        sde = ControlledSDE(reference, correction)
    sde.to(device)
    reward.to(device)
    condition = {"encoder_hidden_states": torch.randn(batch, 77, 768, device=device)} if task == "sd" else {}
    sde.checkpoint = bool(options.get("checkpoint", False))
    if options.get("torchsde"):
        sys.modules["rewardsde.solve"].reversible_heun_adjoint = torchsde_reversible_heun_adjoint
    cuda = device.startswith("cuda")

    loop = BACKENDS["reference loop"]

    def run(grad: bool, options: dict = options) -> None:
        with sde.reference.conditioned(**condition), torch.autocast(device.split(":")[0], torch.bfloat16, autocast):
            one_step(sde, reward, batch, steps, options, grad, matching if options is not loop else None)
        if cuda:
            torch.cuda.synchronize()

    def seconds(grad: bool, options: dict = options) -> float:
        start = time.perf_counter()
        run(grad, options)
        return time.perf_counter() - start

    baseline_kib = _resident_kib()
    run(False)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    run(True)
    run(True)
    if cuda:
        memory_mib = (torch.cuda.max_memory_allocated() - before) / 2**20
    else:
        memory_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline_kib) / 1024
    # Times: this back end and the bare loop alternate, so both see the same machine.
    run(False, loop)
    run(True, loop)
    # Which of the two runs first alternates from repeat to repeat, so that neither always
    # follows a training step (timed against itself, the loop did not read 1 in a fixed order).
    times = {key: [] for key in ("sample", "train", "loop_sample", "loop_train")}
    for repeat in range(repeats):
        order = (("", options), ("loop_", loop)) if repeat % 2 == 0 else (("loop_", loop), ("", options))
        for grad, key in ((False, "sample"), (True, "train")):
            for prefix, chosen in order:
                times[prefix + key].append(seconds(grad, chosen))
    return {key: statistics.median(values) for key, values in times.items()} | {"memory_mib": memory_mib}


def _resident_kib() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() // 1024


def figure(results: list[dict], path: str) -> None:
    tasks = sorted({r["task"] for r in results}, key=TASKS.index)
    fig = Figure(figsize=(10, 3.6 * len(tasks)))
    axes = fig.subplots(len(tasks), 2, squeeze=False)
    for row, task in zip(axes, tasks):
        for backend in BACKENDS:
            cells = [r for r in results if r["task"] == task and r["backend"] == backend]
            if not cells:
                continue
            n = [r["steps"] for r in cells]
            row[0].plot(n, [r["train"] for r in cells], marker="o", label=backend)
            row[1].plot(n, [max(r["memory_mib"], 0.1) for r in cells], marker="o", label=backend)
        sample = [r for r in results if r["task"] == task and r["backend"] == "direct"]
        row[0].plot([r["steps"] for r in sample], [r["sample"] for r in sample], "k--", label="sampling (Euler)")
        for axis, label in zip(row, ("seconds per training step", "peak memory added (MiB)")):
            axis.set_xscale("log")
            axis.set_yscale("log")
            axis.set_xlabel("solver steps N")
            axis.set_ylabel(label)
            axis.set_title(f"{task}: {label}")
        row[0].legend(fontsize=7)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=["mlp", "unet"])
    parser.add_argument("--backends", nargs="+", choices=list(BACKENDS), default=list(BACKENDS))
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 20, 25, 50, 100, 200])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pipeline", default="pretrained/digits")
    parser.add_argument("--figure", default="docs/figures/gradient_cost.png", help="'' for none")
    parser.add_argument("--out", default="benchmarks/results/gradient_cost.json",
                        help="rows {task, backend, steps, sample, train, loop_sample, loop_train, memory_mib}")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--autocast", action="store_true", help="bf16 autocast around each step")
    parser.add_argument("--overhead", action="store_true",
                        help="only the microseconds per step around the network, library against bare loop")
    parser.add_argument("--cell", nargs=3, metavar=("TASK", "BACKEND", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.overhead:
        print(json.dumps(overhead()))
        return
    if args.cell:
        task, backend, steps = args.cell
        print(json.dumps(measure(task, backend, int(steps), args.repeats, args.pipeline, args.device, args.autocast)))
        return

    results = []
    for task in args.tasks:
        for backend in args.backends:
            for steps in args.steps:
                command = [sys.executable, __file__, "--cell", task, backend, str(steps), "--repeats", str(args.repeats),
                           "--pipeline", args.pipeline, "--device", args.device, *(["--autocast"] * args.autocast)]
                output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                cell = json.loads(output.strip().splitlines()[-1])
                results.append({"task": task, "backend": backend, "steps": steps, **cell})
                print(f"{task} / {backend} / N={steps}: train {cell['train']:.3f} s", file=sys.stderr, flush=True)
    rows = [
        [r["task"], r["backend"], r["steps"], r["sample"], r["train"], r["train"] / r["sample"],
         r["train"] / r["loop_train"], r["sample"] / r["loop_sample"], r["memory_mib"]]
        for r in results
    ]
    header = ["task", "back end", "N", "sample (s)", "train step (s)", "train / sample", "train × loop",
              "sample × loop", "peak memory added (MiB)"]
    print(markdown_table(header, rows))
    if args.figure:
        figure(results, args.figure)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nsaved {args.figure or 'no figure'} and {args.out}")


if __name__ == "__main__":
    main()
