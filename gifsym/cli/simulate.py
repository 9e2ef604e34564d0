"""``gifsym simulate``: push samples through the flow with diffrax (noise → data, or data → noise)."""

from __future__ import annotations

import os

import click

from gifsym.cli._common import (
    emit_json,
    interruptible,
    number_json,
    require_assumptions,
    resolve_schedule,
    distributed_option,
    schedule_options,
    start_distributed,
    target_option,
)
from gifsym.errors import GifsymError


def _flow(schedule_spec, a_expr, b_expr, params, target_spec, dim):
    """The flow to integrate: exact target, or the oracle member of a class target."""
    from gifsym.gif import GIF
    from gifsym.symbolic.target import target

    gif = GIF(resolve_schedule(schedule_spec, a_expr, b_expr, params), target(target_spec))
    # The flow must exist: the velocity identity (S-end, S-pos) and well-posedness (S-mono, S-smooth).
    require_assumptions(gif, ("S-end", "S-pos", "S-mono", "S-smooth"), "simulating the flow")
    if gif.target.is_exact:
        return gif, None
    from gifsym.numerics.oracle import oracle_flow

    flow = oracle_flow(gif.schedule, gif.target, dim=dim)
    return flow, flow.oracle.describe()


def _process() -> tuple[int, int]:
    """``(process_index, process_count)`` of a multi-process run, ``(0, 1)`` otherwise."""
    from gifsym.numerics.distributed import is_initialized, process_info

    if not is_initialized():
        return 0, 1
    info = process_info()
    return info["process_index"], info["process_count"]


def _image_shape(text: str | None) -> tuple[int, int] | None:
    """``HxW`` (e.g. ``8x8``) as two positive integers, or a clear error."""
    if text is None:
        return None
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise GifsymError(f"--image-shape {text!r}: give HxW with positive integers, e.g. 8x8")
    return int(parts[0]), int(parts[1])


def _plot(path: str, flow, start, res, *, seed: int, image_shape=None, data=None) -> None:
    """End points against exact samples of the law they should follow (the target forward, the source in
    reverse): a histogram in 1-D, a scatter in 2-D, and in more dimensions a scatter on the first two
    principal components of the exact samples; with ``image_shape`` a grid of end points as images beside
    their nearest training points (data targets)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from gifsym.numerics import simulate as sim
    from gifsym.numerics.memorisation import pca_projection
    from gifsym.output.plot import save_figure

    n = len(res.x)
    ref = sim.sample_source(flow, n, seed=seed + 1) if res.reverse else sim.sample_target(flow, n, seed=seed + 1)
    ref = np.asarray(ref)
    label = "source" if res.reverse else "target"
    d = res.x.shape[1]
    panels = 1 if image_shape is None else 3
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels if panels == 1 else 14, 4.6))
    ax = axes if panels == 1 else axes[0]
    if d == 1:
        bins = np.histogram_bin_edges(np.concatenate([res.x[:, 0], ref[:, 0]]), bins=int(np.clip(np.sqrt(n), 10, 80)))
        ax.hist(ref[:, 0], bins=bins, density=True, alpha=0.45, label=f"exact {label} samples")
        ax.hist(res.x[:, 0], bins=bins, density=True, histtype="step", lw=1.6, label="simulated end points")
        ax.set_xlabel("x")
        ax.set_ylabel("density")
    else:
        if d == 2:
            (r2, x2), names = (ref, res.x), ("x_1", "x_2")
        else:  # coordinates 1 and 2 of images are border pixels: project on the principal components instead
            (r2, x2), frac = pca_projection(ref, res.x)
            names = tuple(f"PC{i + 1} ({100 * f:.0f}% of the variance)" for i, f in enumerate(frac))
        ax.scatter(r2[:, 0], r2[:, 1], s=5, alpha=0.35, label=f"exact {label} samples")
        ax.scatter(x2[:, 0], x2[:, 1], s=5, alpha=0.5, label="simulated end points")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.set_aspect("equal", adjustable="datalim")
    direction = "data -> noise" if res.reverse else "noise -> data"
    where = "" if d <= 2 else f", PCA of d = {d}"
    ax.set_title(f"{flow.schedule.spec} -> {flow.target.spec}\n{direction}, t = {res.t_start:g} to "
                 f"{res.t_end:g}{where}", fontsize=9)
    ax.legend(fontsize=8)
    if image_shape is not None:
        shown = res.x[: min(n, 64)]
        side = int(np.ceil(np.sqrt(len(shown))))
        _image_grid(axes[1], shown, image_shape, side, "simulated end points")
        if data is not None:
            from scipy.spatial import cKDTree

            nearest = np.asarray(data)[cKDTree(data).query(shown)[1]]
            _image_grid(axes[2], nearest, image_shape, side, "their nearest training points")
        else:
            _image_grid(axes[2], ref[: len(shown)], image_shape, side, f"exact {label} samples")
    fig.tight_layout()
    save_figure(fig, path)


def _image_grid(ax, images, shape, side, title) -> None:
    """Images (rows of pixels) tiled side x side with a one-pixel gap, on a common grey scale."""
    import numpy as np

    h, w = shape
    canvas = np.full((side * (h + 1) - 1, side * (w + 1) - 1), np.nan)
    for k, img in enumerate(images):
        r, c = divmod(k, side)
        canvas[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = np.asarray(img).reshape(h, w)
    ax.imshow(canvas, cmap="gray_r", interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()


def _training_points(flow):
    """The training points of a data target (empirical law), else None."""
    from gifsym.symbolic.empirical import EmpiricalLaw

    law = getattr(flow.target, "law", None)
    return law.points if isinstance(law, EmpiricalLaw) else None


@click.command("simulate")
@schedule_options
@target_option
@click.option("-n", "n", type=click.IntRange(min=1), required=True, help="Number of particles.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="PRNG seed of the start samples.")
@click.option("--reverse", is_flag=True, help="Run data -> noise: start from target samples at t1, end at t0.")
@click.option("--solver", type=click.Choice(["tsit5", "dopri5", "dopri8", "euler", "heun", "rk4"]), default="tsit5",
              show_default=True, help="Adaptive (tsit5, dopri5, dopri8) or fixed-step (euler, heun, rk4, with --steps).")
@click.option("--rtol", type=click.FloatRange(min=0, min_open=True), default=1e-6, show_default=True)
@click.option("--atol", type=click.FloatRange(min=0, min_open=True), default=1e-9, show_default=True)
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Steps of a fixed-step solver.")
@click.option("--t0", type=click.FloatRange(0, 1), default=0.0, show_default=True, help="Noise-side time.")
@click.option("--t1", type=click.FloatRange(0, 1), default=1.0, show_default=True, help="Data-side time.")
@click.option("--eps", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
              help="Stop at 1 - eps where the field is not finite at t = 1 [default: 1e-3].")
@click.option("--dim", type=click.IntRange(min=1), default=1, show_default=True,
              help="Dimension of the concrete member of a class target (gaussian/gmm targets have their own).")
@click.option("--save-path", "save_path", type=click.IntRange(min=2), default=None, metavar="K",
              help="Also save the particles at K equally spaced times (into -o).")
@click.option("-o", "--output", metavar="FILE.npz", default=None,
              help="Write x0 (start), x (end points), t_start, t_end, eps, w2_endpoint [, ts, path] to a .npz file.")
@click.option("--plot", "plot_path", metavar="FILE", default=None,
              help="Figure of the end points against exact samples (.png, .svg or .pdf).")
@click.option("--image-shape", "image_shape", metavar="HxW", default=None,
              help="The samples are images of H x W pixels (e.g. 8x8): --plot adds a grid of them.")
@click.option("--delta", type=click.FloatRange(min=0), default=None,
              help="Memorisation radius for data targets [default: 1/10 of the data's median nearest-neighbour "
                   "spacing].")
@click.option("--progress/--no-progress", default=None, help="Progress meter on stderr [default: on a TTY for long runs].")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@distributed_option
def simulate(schedule_spec, a_expr, b_expr, params, target_spec, n, seed, reverse, solver, rtol, atol, steps, t0, t1,
             eps, dim, save_path, output, plot_path, image_shape, delta, progress, as_json, distributed) -> None:
    """Push N samples through the flow (diffrax, float64).

    Forward: samples of the source a0 Z + b0 X1 at t0 go to t1 (data). With --reverse: samples of the target
    at t1 go back to t0 (the encoder). A class target (slc:kappa=1, ball:R=1, ...) is simulated on a
    concrete member of the class (a quadrature oracle, see gifsym.oracle). Where the field is not finite at
    t = 1 the run stops at 1 - eps and reports the W2 cost of stopping early. In d > 2, --plot shows the
    first two principal components; for a data target (empirical:FILE) the memorisation statistics are
    printed: the fraction of samples within delta of a training point, how many distinct points are hit, and
    the nearest-neighbour distance against the data's own spacing.

    With --distributed (one process per host or device, each running the same command) every process
    integrates its share of the N particles, a data target's points are split over all processes, and
    process 0 alone prints and writes files.
    """
    import numpy as np

    from gifsym.io import atomic_path

    start_distributed(distributed)  # before anything else touches JAX
    from gifsym.numerics import simulate as sim

    if output is not None and not output.endswith(".npz"):
        raise GifsymError(f"-o {output!r}: the output is a NumPy archive; give a file name ending in .npz")
    if plot_path is not None:
        from gifsym.output.plot import check_format

        check_format(plot_path)
    for p in (output, plot_path):
        if p is not None and not os.path.isdir(os.path.dirname(os.path.abspath(p))):
            raise GifsymError(f"cannot write {p!r}: folder {os.path.dirname(os.path.abspath(p))!r} does not exist")
    shape = _image_shape(image_shape)
    flow, member = _flow(schedule_spec, a_expr, b_expr, params, target_spec, dim)
    d = sim.flow_dim(flow)
    if shape is not None and shape[0] * shape[1] != d:  # refused before anything runs
        raise GifsymError(f"--image-shape {shape[0]}x{shape[1]} has {shape[0] * shape[1]} pixels, but the samples "
                          f"have d = {d}")
    sim.check_size(flow, n, save_path=save_path or 0, what=f"simulate -n {n}")
    start = sim.sample_target(flow, n, seed=seed) if reverse else sim.sample_source(flow, n, seed=seed)
    start = np.asarray(start)
    rank, size = _process()
    if size > 1 and n % size:
        raise GifsymError(f"-n {n} does not split evenly over the {size} processes of the run")
    res = interruptible(sim.simulate, flow, start[rank * n // size:(rank + 1) * n // size], t0=t0, t1=t1, solver=solver, rtol=rtol, atol=atol, steps=steps,
                        reverse=reverse, save_path=save_path or False, stats=True, eps=eps,
                        progress=False if as_json else progress)
    if rank:  # the end points are all-gathered: process 0 reports and writes for the run
        return
    if output is not None:
        arrays = {"x0": start, "x": res.x, "t_start": res.t_start, "t_end": res.t_end, "eps": res.eps,
                  "w2_endpoint": np.nan if res.w2_endpoint is None else res.w2_endpoint}
        if res.path is not None:
            arrays.update(ts=res.ts, path=res.path)
        with atomic_path(output) as tmp:
            np.savez(tmp, **arrays)
    data = _training_points(flow)
    if plot_path is not None:
        _plot(plot_path, flow, start, res, seed=seed, image_shape=shape, data=data)
    memo = None
    if data is not None and not reverse and len(data) >= 2:
        from gifsym.numerics.memorisation import memorisation

        memo = memorisation(res.x, data, delta=delta)
    mean = res.x.mean(axis=0)
    cov = np.atleast_2d(np.cov(res.x, rowvar=False, bias=True))
    if as_json:
        emit_json({"schedule": flow.schedule.spec, "target": flow.target.spec, "member": member, "seed": seed,
                   **res.to_dict(), "w2_endpoint": number_json(res.w2_endpoint),
                   "mean": [float(v) for v in mean], "cov": cov.tolist(), "output": output, "plot": plot_path,
                   "memorisation": None if memo is None else memo.to_dict()})
        return
    click.echo(f"simulate {flow.schedule.spec} -> {flow.target.spec}" + (f" (member: {member})" if member else ""))
    direction = "data -> noise" if reverse else "noise -> data"
    click.echo(f"  {n} particles in d = {res.x.shape[1]}, {direction}, t = {res.t_start:g} -> {res.t_end:g}, "
               f"solver {solver}")
    st = res.stats
    click.echo(f"  steps: {st.num_steps} ({st.num_accepted} accepted, {st.num_rejected} rejected), "
               f"{st.wall_s:.2f} s on {st.devices} device(s)")
    if res.eps > 0:
        w2 = "unknown" if res.w2_endpoint is None else f"{res.w2_endpoint:.3g}"
        click.echo(f"  stopped at 1 - eps, eps = {res.eps:g}: W2(p_(1-eps), target) <= {w2}")
    click.echo("  end points: mean " + np.array2string(mean, precision=4) + ", covariance "
               + np.array2string(cov, precision=4).replace("\n", ""))
    if memo is not None:
        click.echo(f"  {memo}")
    for label, p in (("samples", output), ("figure", plot_path)):
        if p is not None:
            click.echo(f"  wrote {label} to {p}")
