"""Several processes as one JAX program: a thin wrapper over :func:`jax.distributed.initialize`.

gifsym runs on many hosts the way JAX does: one process per host (or per accelerator), all running the
same program, with ``jax.devices()`` listing every process's devices. After :func:`initialize` a data
target's points are sharded over all of those devices (each process holds only its share, see
:mod:`gifsym.numerics.empirical_field`), and ``simulate`` and ``verify`` run on the global mesh.

:func:`initialize` passes its arguments to :func:`jax.distributed.initialize` unchanged. Left out, they
are found by JAX's own cluster detection (nothing is reimplemented here):

* **SLURM** (``srun``): ``SLURM_JOB_ID``, ``SLURM_NTASKS``, ``SLURM_PROCID``, ``SLURM_LOCALID``,
  ``SLURM_STEP_NODELIST`` (the coordinator is the first node of the step);
* **Kubernetes** (JobSet / indexed Jobs, as JAX's ``K8sCluster`` reads them): the pod's job completion
  index and the headless service of the job; the ``kubernetes`` Python client must be installed;
* **Open MPI** (``mpirun``): ``OMPI_MCA_orte_hnp_uri``, ``OMPI_COMM_WORLD_SIZE``/``RANK``/``LOCAL_RANK``;
* anywhere else give ``coordinator_address`` (``"host:port"`` of process 0), ``num_processes`` and
  ``process_id`` explicitly (or ``JAX_COORDINATOR_ADDRESS``, ``JAX_NUM_PROCESSES``, ``JAX_PROCESS_ID``).

On CPUs the processes exchange data through gloo (``jax_cpu_collectives_implementation = "gloo"``),
which :func:`initialize` selects unless another implementation was chosen.

Example:
    >>> from gifsym.numerics.distributed import process_info
    >>> process_info()["process_count"]  # without initialize: one process
    1
"""

from __future__ import annotations

from collections.abc import Sequence

from gifsym.errors import GifsymError

#: The arguments of the last successful :func:`initialize` (``None`` before), to make it idempotent.
_STATE: dict = {}


def _check_int(name: str, v, *, lo: int) -> None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < lo):
        raise GifsymError(f"{name} must be an integer >= {lo}, got {v!r}")


def initialize(*, coordinator_address: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, local_device_ids: int | Sequence[int] | None = None,
               initialization_timeout: int = 300) -> dict:
    """Join this process to a multi-process JAX run (call once, before any other JAX work).

    Every argument left out is found by JAX from the environment (SLURM, Kubernetes, Open MPI, or the
    ``JAX_*`` variables; see the module docstring). Calling it again with the same arguments does nothing;
    with different ones it is an error (JAX cannot be re-initialised in a running process).

    Args:
        coordinator_address: ``"host:port"`` of process 0's coordinator service.
        num_processes: how many processes take part.
        process_id: this process's index, ``0 <= process_id < num_processes``.
        local_device_ids: the local devices this process uses (e.g. one GPU per process).
        initialization_timeout: seconds to wait for every process to join.

    Returns:
        :func:`process_info` after joining.

    Raises:
        GifsymError: bad arguments, a second call with other arguments, JAX already in use, no cluster
            found in the environment, or the coordinator not reached in time.
    """
    if coordinator_address is not None and (not isinstance(coordinator_address, str)
                                            or coordinator_address.rpartition(":")[2].isdigit() is False):
        raise GifsymError(f"coordinator_address must be 'host:port', got {coordinator_address!r}")
    _check_int("num_processes", num_processes, lo=1)
    _check_int("process_id", process_id, lo=0)
    _check_int("initialization_timeout", initialization_timeout, lo=1)
    if num_processes is not None and process_id is not None and process_id >= num_processes:
        raise GifsymError(f"process_id must be below num_processes ({num_processes}), got {process_id}")
    if local_device_ids is not None:
        ids = [local_device_ids] if isinstance(local_device_ids, int) else list(local_device_ids)
        for i in ids:
            _check_int("each of local_device_ids", i, lo=0)
        local_device_ids = ids
    args = {"coordinator_address": coordinator_address, "num_processes": num_processes,
            "process_id": process_id, "local_device_ids": local_device_ids}
    import jax

    if _STATE:
        if _STATE["args"] != args:
            raise GifsymError(f"gifsym.distributed.initialize was already called with {_STATE['args']}; "
                              f"a process joins one run only (got {args})")
        return process_info()
    if jax.distributed.is_initialized():  # joined by the caller directly through JAX: nothing to do
        _STATE["args"] = args
        return process_info()
    try:
        if jax.config.jax_cpu_collectives_implementation in (None, "", "none"):
            jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(initialization_timeout=initialization_timeout, **args)
    except (RuntimeError, ValueError) as e:  # JAX's own errors: already in use, nothing detected, timeout
        raise GifsymError(f"jax.distributed.initialize failed: {str(e).splitlines()[0] if str(e) else e!r}") from e
    _STATE["args"] = args
    return process_info()


def is_initialized() -> bool:
    """Whether this process has joined a multi-process run (through gifsym or JAX directly)."""
    import jax

    return bool(_STATE) or jax.distributed.is_initialized()


def process_info() -> dict:
    """``process_index``, ``process_count``, ``local_devices`` and ``devices`` (global) of this process."""
    import jax

    return {"process_index": jax.process_index(), "process_count": jax.process_count(),
            "local_devices": jax.local_device_count(), "devices": jax.device_count()}


__all__ = ["initialize", "is_initialized", "process_info"]
