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
#: The mesh axis a data target's points are split over (:mod:`gifsym.numerics.empirical_field`).
POINTS = "points"


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


def points_mesh(devices=None):
    """``Mesh(devices, ("points",))`` over ``devices`` (default: every device of every process)."""
    import jax
    from jax.sharding import Mesh

    return Mesh(np.array(jax.devices() if devices is None else list(devices)), (POINTS,))


def points_mesh_of(field):
    """The ``("points",)`` mesh a field's data are split over, or ``None`` (a field whose leaves — a data
    target's :class:`jax.tree_util.Partial` — are not split by points)."""
    import jax
    from jax.sharding import NamedSharding

    for leaf in jax.tree_util.tree_leaves(field):
        sh = getattr(leaf, "sharding", None)
        if isinstance(sh, NamedSharding) and sh.mesh.axis_names == (POINTS,) and sh.mesh.size > 1:
            return sh.mesh
    return None


def replicate_particles(x, mesh, *, same_on_all: bool = False):
    """Particles as one array with a full copy on every device of ``mesh``; returns ``(array, n)``.

    On several processes ``x`` is this process's particles (the same count on every process); they are
    assembled into the global (n, d) array, split by process, and all-gathered by XLA (the queries of a
    field whose data are split by points must be seen by every shard of the data). With
    ``same_on_all=True``, ``x`` is all the particles, identical on every process, and is placed as it is.
    """
    import jax
    from jax.sharding import NamedSharding, PartitionSpec

    repl = NamedSharding(mesh, PartitionSpec())
    if jax.process_count() > 1 and same_on_all:
        host = np.asarray(x, dtype=np.float64)
        return jax.make_array_from_callback(host.shape, repl, lambda idx: host[idx]), host.shape[0]
    if jax.process_count() > 1:
        x = np.asarray(x, dtype=np.float64)
        split = NamedSharding(mesh, PartitionSpec(POINTS, None))
        local = mesh.local_mesh.size
        if x.shape[0] % local:
            raise NumericError(f"with several processes, each process's particle count must be a multiple of its "
                               f"{local} local devices; got {x.shape[0]}")
        arr = jax.make_array_from_process_local_data(split, x)
        out = jax.jit(lambda a: a, out_shardings=repl)(arr)
        return out, out.shape[0]
    return jax.device_put(x, repl), x.shape[0]


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
        if x.sharding.is_fully_replicated:  # every process holds the whole array
            return np.asarray(x.addressable_data(0))
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)


__all__ = ["AXIS", "POINTS", "device_count", "gather", "particle_sharding", "points_mesh", "points_mesh_of",
           "replicate_particles", "replicated", "shard_particles"]
