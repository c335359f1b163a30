"""Gaussian mixtures and their exact tilts by quadratic rewards."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.distributions import Categorical, MixtureSameFamily, MultivariateNormal

from .rewards import QuadraticForm


class GaussianMixture:
    """``p(x) = Σ_k w_k N(x; m_k, S_k)`` in float64, with exact moments.

    The density is torch's ``MixtureSameFamily`` of ``MultivariateNormal``
    components (:attr:`distribution`). :meth:`sample` draws by hand because
    ``torch.distributions`` samples take no ``generator``.

    Args:
        weights: ``(K,)`` non-negative, normalised here.
        means: ``(K, D)``.
        covariances: ``(K, D, D)`` symmetric positive definite.
    """

    def __init__(self, weights: Tensor, means: Tensor, covariances: Tensor) -> None:
        weights = torch.as_tensor(weights, dtype=torch.float64)
        means = torch.as_tensor(means, dtype=torch.float64)
        covariances = torch.as_tensor(covariances, dtype=torch.float64)
        k, d = means.shape
        if weights.shape != (k,) or covariances.shape != (k, d, d):
            raise ValueError(
                f"need weights (K,), means (K, D), covariances (K, D, D); got {tuple(weights.shape)}, "
                f"{tuple(means.shape)}, {tuple(covariances.shape)}"
            )
        if (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"mixture weights must be non-negative with a positive sum, got {weights.tolist()}")
        self.weights = weights / weights.sum()
        self.means = means
        self.covariances = covariances
        self._cholesky = torch.linalg.cholesky(covariances)
        self.distribution = MixtureSameFamily(
            Categorical(logits=torch.log(self.weights), validate_args=False),
            MultivariateNormal(means, scale_tril=self._cholesky, validate_args=False),
            validate_args=False,
        )

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def mean(self) -> Tensor:
        """E[x], shape ``(D,)``."""
        return self.weights @ self.means

    def covariance(self) -> Tensor:
        """Cov[x] = Σ w_k (S_k + m_k m_kᵀ) - E[x]E[x]ᵀ, shape ``(D, D)``."""
        second = torch.einsum("k,kij->ij", self.weights, self.covariances + self.means[:, :, None] * self.means[:, None, :])
        mean = self.mean()
        return second - torch.outer(mean, mean)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` independent draws, shape ``(n, D)``, float64."""
        component = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        noise = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        return self.means[component] + torch.einsum("nij,nj->ni", self._cholesky[component], noise)

    def component_log_prob(self, x: Tensor) -> Tensor:
        """``log w_k + log N(x; m_k, S_k)`` for ``x`` ``(n, D)``, shape ``(n, K)``."""
        components = self.distribution.component_distribution.log_prob(x.to(torch.float64)[:, None, :])
        return torch.log(self.weights) + components

    def log_prob(self, x: Tensor) -> Tensor:
        """log p(x) for ``x`` ``(n, D)``, shape ``(n,)``."""
        return self.distribution.log_prob(x.to(torch.float64))

    def responsibilities(self, x: Tensor) -> Tensor:
        """Posterior component probabilities ``p(k | x)``, shape ``(n, K)``."""
        return torch.softmax(self.component_log_prob(x), dim=1)

    def expected(self, reward: QuadraticForm) -> Tensor:
        """E[r(x)] for ``r(x) = bᵀx - ½xᵀAx + c``, exactly."""
        b, a, c = reward.coefficients(self.dim)
        quad = torch.einsum("ij,kji->k", a, self.covariances) + torch.einsum("ki,ij,kj->k", self.means, a, self.means)
        return self.weights @ (self.means @ b - 0.5 * quad) + c

    def tilted(self, reward: QuadraticForm, alpha: float) -> "TiltedMixture":
        """The exact law ``p*(x) ∝ p(x)·exp(r(x)/α)``.

        Each component ``N(m, S)`` becomes ``N(m', S')`` with
        ``S'⁻¹ = S⁻¹ + A/α`` and ``m' = S'(S⁻¹m + b/α)``, and its weight is
        multiplied by ``Z_k = E_{N(m,S)}[exp(r/α)]``.
        """
        if not alpha > 0:
            raise ValueError(f"alpha must be positive for an exact tilt, got {alpha}")
        b, a, c = reward.coefficients(self.dim)
        precision = torch.linalg.inv(self.covariances)
        new_precision = precision + a / alpha
        if (torch.linalg.eigvalsh(new_precision) <= 0).any():
            raise ValueError(f"exp(r/alpha) is not integrable against this prior at alpha={alpha}")
        new_cov = torch.linalg.inv(new_precision)
        h = torch.einsum("kij,kj->ki", precision, self.means) + b / alpha
        new_means = torch.einsum("kij,kj->ki", new_cov, h)
        log_z = (
            -0.5 * torch.logdet(self.covariances)
            - 0.5 * torch.logdet(new_precision)
            + 0.5 * (h * new_means).sum(-1)
            - 0.5 * torch.einsum("ki,kij,kj->k", self.means, precision, self.means)
            + c / alpha
        )
        log_weights = torch.log(self.weights) + log_z
        return TiltedMixture(
            torch.softmax(log_weights, 0), new_means, new_cov, torch.logsumexp(log_weights, 0), self, reward, alpha
        )


class TiltedMixture(GaussianMixture):
    """``p*(x) = p(x)·exp(r(x)/α) / Z``, a Gaussian mixture again.

    Attributes:
        log_normalizer: ``log Z = log E_p[exp(r/α)]``.
        prior, reward, alpha: what was tilted.
    """

    def __init__(self, weights, means, covariances, log_normalizer, prior, reward, alpha) -> None:
        super().__init__(weights, means, covariances)
        self.log_normalizer = log_normalizer
        self.prior = prior
        self.reward = reward
        self.alpha = alpha

    def kl_to_prior(self) -> Tensor:
        """KL(p* ‖ p) = E_{p*}[r]/α - log Z, exactly."""
        return self.expected(self.reward) / self.alpha - self.log_normalizer
