"""The numerics layer: JAX fields, simulation, oracles, verification, sharding (the only layer that imports JAX)."""
