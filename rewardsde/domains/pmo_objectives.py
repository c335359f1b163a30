"""PMO's multi-property objectives, scored by guacamol's own scoring functions.

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
from typing import Callable

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
