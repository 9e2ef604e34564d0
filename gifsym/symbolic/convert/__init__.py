r"""Peer conventions: other libraries' schedules, parameterisations and schedule transfer (``gifsym.convert``).

* :func:`from_peer` / :func:`to_peer` / :func:`peer_info` — flow_matching, diffusers and torchcfm objects
  (:mod:`~gifsym.symbolic.convert.peers`); their spec strings (``fm-vp``, ``sd3:shift=3``, ``edm``, ``ddpm``,
  ``cfm:sigma``, ...) work without the packages.
* :func:`sampling_grid` — a diffusers sampler's steps (``set_timesteps``) as increasing times in [0, 1] of
  its gifsym schedule, matched by noise level (:mod:`~gifsym.symbolic.convert.sampling`).
* :func:`parameterization` — velocity ↔ data ↔ noise ↔ score (↔ v-prediction) coefficients
  (:mod:`~gifsym.symbolic.convert.parameterizations`).
* :func:`transfer` — the SNR-matching time change and scale between two schedules
  (:mod:`~gifsym.symbolic.convert.schedule_transfer`, with :mod:`~gifsym.symbolic.convert.snr` for ``ρ⁻¹``).
* :func:`sigma_min_path` — a path with ``a_1 = σ_min > 0`` as the GIF of ``ν * N(0, σ_min² I)``
  (:mod:`~gifsym.symbolic.convert.sigma_min`).

Importing this package imports no peer library, no torch and no JAX.

Example:
    >>> import gifsym
    >>> gifsym.convert.parameterization(gifsym.schedule("fm-condot"), "x1", "velocity").c_given
    -1/(t - 1)
"""

from __future__ import annotations

from gifsym.symbolic.convert.arguments import clean_errors
from gifsym.symbolic.convert.parameterizations import PARAMETERIZATIONS, Parameterization, parameterization
from gifsym.symbolic.convert.peers import (
    CONVENTIONS,
    PEER_CLASSES,
    PeerSchedule,
    ddpm_log_alpha_bar_bound,
    from_peer,
    peer_info,
    to_peer,
)
from gifsym.symbolic.convert.sampling import SamplingGrid, sampling_grid
from gifsym.symbolic.convert.schedule_transfer import Transfer, transfer
from gifsym.symbolic.convert.sigma_min import SigmaMinPath, equivalent_flow, sigma_min_path, smoothed_target
from gifsym.symbolic.convert.snr import SNRInverse, snr_inverse

# The public functions turn arithmetic failures on extreme input into ConvertError (argument types are
# checked inside each, see gifsym.symbolic.convert.arguments).
(ddpm_log_alpha_bar_bound, equivalent_flow, from_peer, parameterization, peer_info, sigma_min_path, smoothed_target,
 snr_inverse, to_peer, transfer) = (clean_errors(f) for f in (
    ddpm_log_alpha_bar_bound, equivalent_flow, from_peer, parameterization, peer_info, sigma_min_path,
    smoothed_target, snr_inverse, to_peer, transfer))

__all__ = [
    "CONVENTIONS",
    "PARAMETERIZATIONS",
    "PEER_CLASSES",
    "Parameterization",
    "PeerSchedule",
    "SNRInverse",
    "SamplingGrid",
    "SigmaMinPath",
    "Transfer",
    "ddpm_log_alpha_bar_bound",
    "equivalent_flow",
    "from_peer",
    "parameterization",
    "peer_info",
    "sampling_grid",
    "sigma_min_path",
    "smoothed_target",
    "snr_inverse",
    "to_peer",
    "transfer",
]
