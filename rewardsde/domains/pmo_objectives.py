"""The PMO protocol: its multi-property objectives (guacamol's own scoring functions) and its AUC metric.

The practical molecular optimisation benchmark (PMO; Gao et al., NeurIPS 2022 datasets
track) takes its MPO tasks from GuacaMol (Brown et al., J. Chem. Inf. Model. 2019). We
score them with the ``guacamol`` package itself rather than a re-implementation, so that a
score here is the field's score by construction, not by our reading of its definition:

* ``perindopril_mpo``: the geometric mean of the ECFP4 Tanimoto similarity to
  perindopril and a Gaussian (μ = 2, σ = 0.5) of the number of aromatic rings;
* ``sitagliptin_mpo``: the geometric mean of a Gaussian (μ = 0, σ = 0.1) of the ECFP4
  similarity to sitagliptin, Gaussians of logP and TPSA around sitagliptin's, and the
  isomer score of C16H15F6N5O;
* ``osimertinib_mpo``, ``fexofenadine_mpo``, ``ranolazine_mpo``, ``amlodipine_mpo``,
  ``zaleplon_mpo``: guacamol's other MPO benchmarks under PMO's names.

guacamol 0.5.5 is installed without its dependencies (it pins ``rdkit-pypi``, which
conflicts with ``rdkit``) and imports ``scipy.histogram``, which SciPy removed; it uses
that only for its distribution-learning KL benchmark, never for these objectives, so
:func:`pmo_objective` aliases it to ``numpy.histogram`` (the function SciPy re-exported)
before the first import.
"""

from __future__ import annotations

import functools
import heapq
from typing import Callable, Sequence

# PMO's task name -> the guacamol.standard_benchmarks function that builds it
PMO_TASKS = {
    "perindopril_mpo": "perindopril_rings",
    "sitagliptin_mpo": "sitagliptin_replacement",
    "osimertinib_mpo": "hard_osimertinib",
    "fexofenadine_mpo": "hard_fexofenadine",
    "ranolazine_mpo": "ranolazine_mpo",
    "amlodipine_mpo": "amlodipine_rings",
    "zaleplon_mpo": "zaleplon_with_other_formula",
}


def import_guacamol_benchmarks():
    """``guacamol.standard_benchmarks``, after the ``scipy.histogram`` alias.

    Raises:
        ImportError: when guacamol is not installed, with the command that installs it.
    """
    import numpy
    import scipy

    if not hasattr(scipy, "histogram"):
        scipy.histogram = numpy.histogram
    try:
        from guacamol import standard_benchmarks
    except ImportError as error:
        raise ImportError(
            "the PMO objectives need guacamol: `pip install --no-deps guacamol==0.5.5` "
            f"and `pip install fcd==1.2.2` (the Makefile's domain extras do both); {error}"
        ) from error
    return standard_benchmarks


@functools.lru_cache(maxsize=None)
def pmo_objective(task: str) -> Callable[[str], float]:
    """guacamol's scoring function of the PMO ``task``, ``SMILES -> score in [0, 1]``.

    Raises:
        ValueError: for a task that is not one of :data:`PMO_TASKS`, naming them.
    """
    if task not in PMO_TASKS:
        raise ValueError(f"unknown PMO task {task!r}; the MPO tasks are {sorted(PMO_TASKS)}")
    benchmark = getattr(import_guacamol_benchmarks(), PMO_TASKS[task])()
    return benchmark.objective.score


def top_k_auc(scores: Sequence[float], k: int = 10, budget: int = 10_000, every: int = 100) -> float:
    """PMO's sample-efficiency metric: the area under the curve of the mean of the ``k`` best scores
    found so far against the number of oracle calls, up to ``budget`` calls, divided by ``budget``.

    With ``t(m)`` the mean of the ``min(k, m)`` best of the first ``m`` scores, the curve is read
    every ``every`` calls and integrated by the trapezoid rule from ``t = 0`` at no call:

        AUC = (1/B)·[Σ_{j=1..J} every·(t(j·every) + t((j-1)·every))/2 + (n - J·every)·(t(n) + t(J·every))/2
                     + (B - n)·t(n)],   t(0) = 0,

    for ``n = min(len(scores), B)`` calls and ``J`` the checkpoints strictly below ``n``: a run that
    stops early keeps its last value up to ``B``. This is the definition of Gao et al. (PMO, NeurIPS
    2022; top-10, ``every = 100``, ``B = 10,000``): scores in ``[0, 1]`` give an AUC in ``[0, 1]``, and
    a run whose every score is ``c`` gets ``c·(1 - every/(2B))`` (the first segment rises from 0).

    Args:
        scores: the oracle's answers in call order, one per distinct molecule.
        k, budget, every: as above, positive.

    Raises:
        ValueError: for no score or a non-positive ``k``, ``budget`` or ``every``.
    """
    if not len(scores):
        raise ValueError("top_k_auc needs at least one score")
    if min(k, budget, every) < 1:
        raise ValueError(f"k, budget and every must be positive, got {k}, {budget} and {every}")
    n = min(len(scores), budget)
    best: list[float] = []  # a min-heap of the k best so far
    area, previous, called = 0.0, 0.0, 0
    for m, score in enumerate(scores[:n], start=1):
        (heapq.heappush if len(best) < k else heapq.heappushpop)(best, float(score))
        if m % every == 0 and m < n:
            now = sum(best) / len(best)
            area += every * (now + previous) / 2
            previous, called = now, m
    last = sum(best) / len(best)
    area += (n - called) * (last + previous) / 2 + (budget - n) * last
    return area / budget
