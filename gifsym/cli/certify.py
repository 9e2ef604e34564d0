"""``gifsym certify``: a W₂ bound for a learned velocity model, imported from the user's module."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import math
import os
import sys

import click

from gifsym.cli._common import emit_json, resolve_schedule, schedule_options, target_option
from gifsym.errors import GifsymError


@contextlib.contextmanager
def _cwd_on_path():
    """The current directory on ``sys.path`` while the user's module imports (as ``python -m`` would)."""
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(cwd)


def load_model(spec: str):
    """The model named by ``MODULE:FUNCTION``: MODULE a dotted module importable from the current
    directory, or a path to a ``.py`` file; FUNCTION an attribute of it (dots allowed: ``obj.method``) that
    is the model (a callable of (t, x) or (x, t), or an ``nn.Module``) or builds it (a class, or a function
    called with no arguments, returning an ``nn.Module`` or a callable).

    Importing runs the user's module: that is the point of the option, and the user names the module
    (``importlib``, no string is evaluated).

    Raises:
        GifsymError: a malformed spec, a module that does not import (not found, or it raises while
            importing), a missing attribute, one that is not callable, or a builder that raises or returns
            something that is not callable.
    """
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise GifsymError(f"--model {spec!r}: expected MODULE:FUNCTION (e.g. mymodel:velocity or path/to/file.py:v)")
    try:
        with _cwd_on_path():
            if module_name.endswith(".py"):
                if not os.path.isfile(module_name):
                    raise GifsymError(f"--model {spec!r}: file {module_name!r} not found")
                name = "gifsym_user_model_" + os.path.splitext(os.path.basename(module_name))[0]
                loader_spec = importlib.util.spec_from_file_location(name, module_name)
                module = importlib.util.module_from_spec(loader_spec)
                sys.modules[name] = module
                try:
                    loader_spec.loader.exec_module(module)
                except BaseException:
                    sys.modules.pop(name, None)
                    raise
            else:
                module = importlib.import_module(module_name)
    except GifsymError:
        raise
    except ModuleNotFoundError as e:
        raise GifsymError(f"--model {spec!r}: cannot import module {module_name!r}: {e} (a dotted module importable "
                          "from the current directory, or a path ending in .py)") from None
    except (Exception, SystemExit) as e:  # the user's module raised while importing
        raise GifsymError(f"--model {spec!r}: importing {module_name!r} raised {type(e).__name__}: {e}") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            public = sorted(n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n, None)))
            raise GifsymError(f"--model {spec!r}: {module_name!r} has no attribute {attr!r}; its callables: "
                              f"{', '.join(public[:12]) or '(none)'}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise GifsymError(f"--model {spec!r}: {attr!r} is a {type(obj).__name__}, not a callable model(t, x)")
    if not _is_builder(obj):
        return obj
    try:
        built = obj()
    except Exception as e:  # the user's code
        raise GifsymError(f"--model {spec!r}: {attr}() raised {type(e).__name__}: {e}") from None
    if not callable(built):
        raise GifsymError(f"--model {spec!r}: {attr}() returned a {type(built).__name__}, not an nn.Module or a "
                          "callable model")
    return built


def _is_builder(obj) -> bool:
    """A class, or a function every parameter of which has a default: FUNCTION builds the model."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        return False
    if inspect.isclass(obj):
        return True
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: taken as the model itself
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params) \
        and not any(p.kind == p.VAR_POSITIONAL for p in params)


def parse_lipschitz(text: str | None):
    """``--lipschitz``: ``certified``, ``estimate``, a number, or an expression in t (parsed without eval)."""
    if text is None or text in ("certified", "estimate"):
        return text
    import sympy

    from gifsym.symbolic.expr import parse_expression
    from gifsym.symbolic.schedule import t

    expr = parse_expression(text, names={"t": t})
    if not expr.free_symbols:
        value = complex(sympy.N(expr))
        if value.imag != 0 or not math.isfinite(value.real):
            raise GifsymError(f"--lipschitz {text!r} is not a finite real number")
        return value.real
    f = sympy.lambdify(t, expr, "math")

    def c(tt: float) -> float:
        return float(f(tt))

    return c


@click.command("certify")
@schedule_options
@target_option
@click.option("--model", "model_spec", required=True, metavar="MODULE:FUNCTION",
              help="The velocity model in MODULE (dotted, importable from the current directory, or a path to a "
                   ".py file): FUNCTION is a NumPy, JAX or torch callable model(t, x) -> (n, d), an nn.Module, or "
                   "builds one when called with no arguments; a torch model may take (t, x), (x, t) or "
                   "cat([x, t], -1), found by probing and stated in the output.")
@click.option("--lipschitz", "lipschitz_text", metavar="C",
              help="Lipschitz constant of the model in x: a number, an expression in t, 'certified' (an "
                   "MLPVelocity's layer norms) or 'estimate' [default: certified where the model allows, else "
                   "estimate].")
@click.option("--samples", "-n", type=click.IntRange(min=2), default=4096, show_default=True,
              help="Exact samples of p_t per grid time.")
@click.option("--times", type=click.IntRange(min=3), default=41, show_default=True, help="Grid times on [0, 1].")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="PRNG seed.")
@click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.95,
              show_default=True, help="Joint level of the upper confidence bounds on the error.")
@click.option("--one-sided", is_flag=True, help="Use one-sided Lipschitz constants (largest eigenvalue of the "
                                                "symmetric part of the model's Jacobian).")
@click.option("--realised", type=click.IntRange(min=0), default=0, show_default=True, metavar="N",
              help="Also simulate the model's flow from N source samples and measure W2 to the target (0: skip).")
@click.option("--tolerance", type=click.FloatRange(min=0, min_open=True), default=None, metavar="TOL",
              help="Also print the error budget a model must meet for W2 <= TOL.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write eps(t) and the weighted integrand to FILE (.png, .svg, .pdf).")
@click.option("--sampler", type=click.Choice(["euler", "heun", "midpoint", "rk4"]), default=None,
              help="Certify the model as sampled with this sampler (end to end: model error plus discretisation); "
                   "needs --steps. --samples is then the number of model trajectories.")
@click.option("--steps", type=click.IntRange(min=1), default=None, metavar="N", help="Sampler steps (with --sampler).")
@click.option("--grid", "grid_name", default="uniform", show_default=True, metavar="GRID",
              help="The sampler's grid (with --sampler): uniform, edm[:...], shift:S, optimal.")
@click.option("--json", "as_json", is_flag=True, help="Print the certificate as one JSON object.")
def certify(schedule_spec, a_expr, b_expr, params, target_spec, model_spec, lipschitz_text, samples, times, seed,
            confidence, one_sided, realised, tolerance, plot_path, sampler, steps, grid_name, as_json) -> None:
    """Bound W2(model's samples, target) for a learned velocity field by the velocity-stability theorem:
    W2 <= int_0^1 exp(int_t^1 C_s ds) ||v(t) - model(t)||_{L2(p_t)} dt, with the error measured on exact
    samples of p_t (upper confidence bounds) and C_t given, certified or estimated.

    The target must have an exact field (gaussian, gmm). With --sampler and --steps: the bound for the model
    sampled that way (end to end).
    """
    from gifsym.gif import GIF
    from gifsym.numerics.certify import certify as run_certify
    from gifsym.symbolic.target import target

    if plot_path is not None:
        from gifsym.output.plot import check_format

        check_format(plot_path)  # before any work
    gif = GIF(resolve_schedule(schedule_spec, a_expr, b_expr, params), target(target_spec))
    lip = parse_lipschitz(lipschitz_text)
    if sampler is not None or steps is not None:
        return _certify_sampler(gif, model_spec, sampler, steps, grid_name, samples, seed, confidence, realised,
                                lipschitz_text is not None or one_sided or tolerance is not None
                                or plot_path is not None, as_json)
    model = load_model(model_spec)
    cert = run_certify(gif, model, lipschitz=lip, n=samples, times=times, seed=seed, confidence=confidence,
                       one_sided=one_sided, realised=realised or False)
    budget = cert.budget(tolerance) if tolerance is not None else None
    if plot_path is not None:
        from gifsym.output.plot import plot_certificate

        plot_certificate(cert, plot_path)
    if as_json:
        out = cert.to_dict()
        out["model"] = model_spec
        if budget is not None:
            out["budget"] = budget.to_dict()
        emit_json(out)
    else:
        click.echo(str(cert))
        if budget is not None:
            click.echo(str(budget))


def _certify_sampler(gif, model_spec, sampler, steps, grid_name, samples, seed, confidence, realised, flow_only,
                     as_json) -> None:
    from gifsym.decisions.end_to_end import certify_sampler
    from gifsym.errors import GifsymError

    if sampler is None or steps is None:
        raise GifsymError("--sampler and --steps go together")
    if flow_only:
        raise GifsymError("--lipschitz, --one-sided, --tolerance and --plot apply to the model's flow, not to --sampler")
    cert = certify_sampler(gif, load_model(model_spec), sampler=sampler, steps=steps, grid=grid_name, n=samples,
                           seed=seed, confidence=confidence, realised=bool(realised))
    if as_json:
        out = cert.to_dict()
        out["model"] = model_spec
        emit_json(out)
    else:
        click.echo(str(cert))
