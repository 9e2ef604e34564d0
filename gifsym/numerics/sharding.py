"""Particles sharded across every JAX device (``jax.sharding``).

A simulation's state is an (n, d) array of independent particles, so it splits along its first axis:
one 1-D :class:`jax.sharding.Mesh` over all devices with the axis ``"particles"`` and the
:class:`~jax.sharding.NamedSharding` ``P("particles", None)``. The velocity field acts row by row, so the
only communication is the solver's error norm (a maximum over all particles, an all-reduce), which is
exact in any order: sharded and single-device runs take the same steps and agree to round-off.

On several hosts (``jax.distributed.initialize()`` first) each process passes its own particles; the
global array is assembled with :func:`jax.make_array_from_process_local_data` and the results are
all-gathered (see ``docs/devices.md``).

Example:
    >>> import numpy as np
    >>> x, n = shard_particles(np.zeros((5, 2)))
    >>> n, x.shape[0] % device_count() == 0
    (5, True)
"""

from __future__ import annotations

import numpy as np

from gifsym.errors import NumericError

AXIS = "particles"


def device_count() -> int:
    """Number of JAX devices across all processes."""
    import jax

    return jax.device_count()


def particle_sharding(devices=None):
    """``NamedSharding(Mesh(devices, ("particles",)), P("particles", None))`` over ``devices`` (default all)."""
    import jax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    devs = np.array(jax.devices() if devices is None else list(devices))
    return NamedSharding(Mesh(devs, (AXIS,)), PartitionSpec(AXIS, None))


def replicated(devices=None):
    """``NamedSharding(Mesh(devices, ("particles",)), P())``: a full copy on every device (default all)."""
    import jax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    devs = np.array(jax.devices() if devices is None else list(devices))
    return NamedSharding(Mesh(devs, (AXIS,)), PartitionSpec())


def shard_particles(x, *, devices=None):
    """Place an (n, d) array of particles across devices; returns ``(array, n)``.

    On one process, ``n`` is padded up to a multiple of the device count by repeating the last particle
    (a repeated particle changes neither the max-norm error estimate nor any other particle), and the
    caller drops the padding with ``out[:n]``. On several processes ``x`` is this process's particles,
    whose count must be a multiple of its local device count; ``n`` is then the global count.

    Raises:
        NumericError: a process-local particle count that does not split evenly across local devices.
    """
    import jax
    import jax.numpy as jnp

    sharding = particle_sharding(devices)
    x = np.asarray(x, dtype=np.float64) if not isinstance(x, jax.Array) else x
    if jax.process_count() > 1:
        local = jax.local_device_count()
        if x.shape[0] % local:
            raise NumericError(f"with several processes, each process's particle count must be a multiple of its "
                               f"{local} local devices; got {x.shape[0]}")
        arr = jax.make_array_from_process_local_data(sharding, np.asarray(x))
        return arr, arr.shape[0]
    n = x.shape[0]
    k = len(sharding.mesh.devices.flat)
    pad = (-n) % k
    if pad:
        x = jnp.concatenate([jnp.asarray(x), jnp.repeat(jnp.asarray(x)[-1:], pad, axis=0)], axis=0)
    return jax.device_put(x, sharding), n


def gather(x) -> np.ndarray:
    """A (possibly sharded, possibly multi-host) array as one host NumPy array."""
    import jax

    if jax.process_count() > 1 and isinstance(x, jax.Array) and not x.is_fully_addressable:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)


__all__ = ["AXIS", "device_count", "gather", "particle_sharding", "replicated", "shard_particles"]
