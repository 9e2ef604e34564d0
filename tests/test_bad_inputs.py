"""The catalogue of bad inputs (issue 22): every kind is refused cleanly.

* Library: a :class:`~gifsym.errors.GifsymError` subclass (never a TypeError, AttributeError, RecursionError,
  OverflowError, the 4300-digit ValueError or "truth value of Relational" from deep inside).
* CLI (the real entry point, in-process): exit 2, exactly one line on stderr and it starts with ``Error:``,
  no traceback, no output file.

The kinds are built from short lists (bad schedule specs, target specs, files, option values, peer objects)
crossed with the commands and functions that take them; ``test_the_catalogue_is_large`` counts them.
"""

from __future__ import annotations

import os
import types
from pathlib import Path

import click
import numpy as np
import pytest
import sympy
from click.testing import CliRunner

import gifsym
from gifsym import convert
from gifsym.cli import main
from gifsym.errors import GifsymError

# -- files (made once per session, in a folder of their own) -------------------------------------------------

FILES = {
    "deep.json": "[" * 5000 + "]" * 5000,
    "deepobj.json": '{"a":' * 3000 + "1" + "}" * 3000,
    "notjson.json": "{weights: [1]}",
    "empty.json": "",
    "latin1.json": b"\xff\xfe[1]",
    "csv_first_row_text.csv": "1,oops\n3,4\n",  # once taken as a header: the row was dropped
    "csv_bad_later.csv": "x,y\n1,2\n3,zz\n",
    "csv_empty.csv": "",
    "csv_blank.csv": "\n\n  \n",
    "csv_header_only.csv": "x,y\n",
    "csv_ragged.csv": "1,2\n3\n",
    "csv_nan.csv": "1,2\nnan,4\n",
    "csv_inf.csv": "1,2\ninf,4\n",
    "csv_binary.csv": b"\x00\xff\xfe\x01,2\n",
    "npy_garbage.npy": b"not an array",
    "npz_garbage.npz": b"PK not a zip",
    "data.txt": "1,2\n",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad_inputs")
    for name, content in FILES.items():
        p = root / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
    (root / "folder.json").mkdir()
    (root / "folder.csv").mkdir()
    (root / "folder").mkdir()
    os.mkfifo(root / "fifo.json")
    os.mkfifo(root / "fifo.npy")
    os.mkfifo(root / "fifo")
    for a, b in (("loop1.json", "loop2.json"), ("loop1.npy", "loop2.npy"), ("loop1", "loop2")):
        os.symlink(root / b, root / a)
        os.symlink(root / a, root / b)
    os.symlink(root / "missing.npy", root / "dangling.npy")
    np.save(root / "huge.npy", np.array([[1e308], [-1e308]]))
    np.save(root / "nan.npy", np.array([[0.0], [np.nan]]))
    np.save(root / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return root


# -- the CLI kinds ------------------------------------------------------------------------------------------

BAD_SCHEDULES = [
    "cosine", "", ":", "vp:beta=1", "vp:beta_min=", "vp:beta_min=x y", "vp:beta_min=nan",
    "vp:beta_min=-1", "vp:beta_min=1e400", "vp:beta_min=10**5000", "vp:beta_min=1,beta_min=2", "ve:sigma_max=0",
    "linear,ve", "custom", "vp:beta_min=__import__('os')", "vp:beta_min=().__class__", "fm-poly:n=0",
    "sd3:shift=-1", "ddpm:timesteps=2.7", "ddpm:timesteps=x", "vp:beta_min=[1]", "vp:beta_min={}",
    "linear:x=1", "vp:beta_min=1j", "vp:beta_min=I", "vp:beta_min=oo", "vp:beta_min=zoo", "LINEAR:=1",
    "lin ear", "vp:beta_min=1;beta_max=2",
]
BAD_TARGETS = [
    "student:nu=3", "", "gaussian:sigma=0", "gaussian:sigma=-1", "gaussian:sigma=nan", "gaussian:sigma=x y",
    "gaussian:cov=2", "gaussian:cov=[[1,0],[0]]", "gaussian:mean=[[[[1]]]]", "gaussian:mean=" + "[" * 3000 + "1"
    + "]" * 3000, "gaussian:mean=[1,", "gaussian:sigma=1,sigma=2", "slc:kappa=nan", "slc:kappa=1e400",
    "ball:R=-1", "ball:R=0", "conv:sigma=-1,R=1", "slc:kappa=1+slc:kappa=2", "gaussian:sigma=1+ball:R=1",
    "gmm", "gmm:weights=[1]", "empirical", "empirical:nofile.npy", "empirical:data.txt", "slcvx:beta=-1",
    "gaussian:sigma=__import__('os')", "ball:R=().__class__", "gaussian:dim=0", "gaussian:dim=2.5",
    "gaussian:dim=10**9", "slc:kappa=[1]",
]
BAD_FILE_TARGETS = [
    "gmm:deep.json", "gmm:deepobj.json", "gmm:notjson.json", "gmm:empty.json", "gmm:latin1.json",
    "gmm:folder.json", "gmm:fifo.json", "gmm:loop1.json", "gmm:folder", "gmm:fifo", "gmm:loop1",
    "gmm:nofile.json", "empirical:csv_first_row_text.csv", "empirical:csv_bad_later.csv", "empirical:csv_empty.csv",
    "empirical:csv_blank.csv", "empirical:csv_header_only.csv", "empirical:csv_ragged.csv", "empirical:csv_nan.csv",
    "empirical:csv_inf.csv", "empirical:csv_binary.csv", "empirical:npy_garbage.npy", "empirical:npz_garbage.npz",
    "empirical:folder.csv", "empirical:fifo.npy", "empirical:loop1.npy", "empirical:dangling.npy",
    "empirical:folder", "empirical:fifo", "empirical:loop1", "empirical:nan.npy", "empirical:obj.npy",
    "empirical:data.txt,sigma=1", "empirical:csv_nan.csv,sigma=-1", "empirical:huge.npy",
]
BAD_AT = ["", ",", "0.5,,0.6", "0.5,", ",0.5", "x", "2", "-0.1", "nan", "1/0", "0.5 0.6", "__import__('os')",
          "erf(1001)", "10**5000", "1e400", "[0.5]"]
BAD_PARAMS = [["__class__=1"], ["c=1"], ["t=1"], ["pi=2"], ["n=nan"], ["n=x y"], ["n=1", "n=2"]]


def _cli_kinds() -> list[tuple[str, list[str]]]:
    kinds: list[tuple[str, list[str]]] = []
    for s in BAD_SCHEDULES:
        kinds.append((f"schedule {s!r}", ["schedule", s]))
        kinds.append((f"velocity -s {s!r}", ["velocity", "-s", s, "-T", "gaussian:sigma=1"]))
    for tg in BAD_TARGETS + BAD_FILE_TARGETS:
        kinds.append((f"velocity -T {tg[:40]!r}", ["velocity", "-s", "linear", "-T", tg]))
    for tg in BAD_FILE_TARGETS:
        kinds.append((f"bounds -T {tg!r}", ["bounds", "-s", "linear", "-T", tg]))
    for at in BAD_AT:
        kinds.append((f"bounds --at {at!r}", ["bounds", "-s", "linear", "-T", "slc:kappa=1", "--at", at]))
        kinds.append((f"report --at {at!r}", ["report", "-s", "linear", "-T", "slc:kappa=1", "--at", at,
                                              "-o", "r.tex"]))
    for ps in BAD_PARAMS:
        args = ["schedule", "--a", "1 - t**n", "--b", "t**n"] if "n" in ps[0] else ["schedule", "--a", "1-t", "--b", "t"]
        kinds.append((f"schedule --param {ps}", args + [x for p in ps for x in ("--param", p)]))
    kinds += [
        ("schedule --a zoo", ["schedule", "--a", "1/0", "--b", "t"]),
        ("bounds -T huge data --json", ["bounds", "-s", "linear", "-T", "empirical:huge.npy", "--json"]),
        ("schedule --a only", ["schedule", "--a", "1-t"]),
        ("schedule spec and --a", ["schedule", "linear", "--a", "1-t", "--b", "t"]),
        ("simulate -n 0", ["simulate", "-s", "linear", "-T", "gaussian:sigma=1", "-n", "0"]),
        ("simulate -n x", ["simulate", "-s", "linear", "-T", "gaussian:sigma=1", "-n", "x"]),
        ("simulate -o .txt", ["simulate", "-s", "linear", "-T", "gaussian:sigma=1", "-n", "2", "-o", "x.txt"]),
        ("simulate -o no folder", ["simulate", "-s", "linear", "-T", "gaussian:sigma=1", "-n", "2", "-o",
                                   "nofolder/x.npz"]),
        ("simulate --plot .gif", ["simulate", "-s", "linear", "-T", "gaussian:sigma=1", "-n", "2", "--plot", "x.gif"]),
        ("simulate --t0 2", ["simulate", "-s", "linear", "-T", "gaussian:sigma=1", "-n", "2", "--t0", "2"]),
        ("simulate --solver x", ["simulate", "-s", "linear", "-T", "gaussian:sigma=1", "-n", "2", "--solver", "x"]),
        ("simulate --dim 1e4", ["simulate", "-s", "linear", "-T", "slc:kappa=1", "-n", "2", "--dim", "1e4"]),
        ("verify --dim 1e4", ["verify", "-s", "linear", "-T", "slc:kappa=1", "--dim", "1e4"]),
        ("verify --dim 0", ["verify", "-s", "linear", "-T", "slc:kappa=1", "--dim", "0"]),
        ("plot bounds -o .txt", ["plot", "bounds", "-s", "linear", "-T", "slc:kappa=1", "-o", "x.txt"]),
        ("plot bounds no -o", ["plot", "bounds", "-s", "linear", "-T", "slc:kappa=1"]),
        ("lemmas show unknown", ["lemmas", "show", "no-such-lemma"]),
        ("lemmas requires unknown", ["lemmas", "requires", "no-such-lemma"]),
        ("lemmas graph -o .txt", ["lemmas", "graph", "-o", "x.txt"]),
        ("bounds --assume X", ["bounds", "-s", "linear", "-T", "slc:kappa=1", "--assume", "X-nope"]),
        ("bounds --json --latex", ["bounds", "-s", "linear", "-T", "slc:kappa=1", "--json", "--latex"]),
        ("unknown command", ["frobnicate"]),
        ("unknown option", ["schedule", "linear", "--frob"]),
        ("report -o no folder", ["report", "-s", "linear", "-T", "slc:kappa=1", "-o", "nofolder/r.tex"]),
        ("certify --model x", ["certify", "-s", "linear", "-T", "slc:kappa=1", "--model", "nomodule:f"]),
    ]
    return kinds


CLI_KINDS = _cli_kinds()


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []})
@click.pass_context
def _entry(ctx):
    main(list(ctx.args))


@pytest.mark.parametrize(("name", "argv"), CLI_KINDS, ids=[k for k, _ in CLI_KINDS])
def test_cli_refuses_cleanly(name, argv, files, monkeypatch):
    monkeypatch.chdir(files)
    before = set(os.listdir(files))
    result = CliRunner().invoke(_entry, argv, catch_exceptions=False)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.exit_code == 2, (result.exit_code, result.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr[-2000:]
    assert "Traceback" not in result.stderr + result.stdout
    assert set(os.listdir(files)) == before


# -- the library kinds --------------------------------------------------------------------------------------

LIN = gifsym.schedule("linear")
DDPM = gifsym.schedule("ddpm")
GAUSS = gifsym.target("gaussian:sigma=1")
VALUES = {"None": None, "True": True, "str": "x", "empty": "", "list": [], "dict": {}, "object": object(),
          "nan": float("nan"), "inf": float("inf"), "sympy.nan": sympy.nan, "sympy.oo": sympy.oo,
          "bigint": 10**5000, "complex": 1j, "bytes": b"x", "array": np.zeros(3), "symbol": sympy.Symbol("t"),
          "namespace": types.SimpleNamespace(), "target": GAUSS, "np.float64(0.5)": np.float64(0.5), "-1": -1}


def _fake(cls_name: str, module: str, **attrs):
    """An object whose class has a peer library's name but not (all) its attributes."""
    cls = type(cls_name, (), {"__module__": module})
    obj = cls()
    for k, v in attrs.items():
        setattr(obj, k, v)
    return obj


def _ddpm_config(**over):
    cfg = dict(beta_schedule="linear", beta_start=1e-4, beta_end=0.02, num_train_timesteps=1000,
               trained_betas=None, rescale_betas_zero_snr=False, prediction_type="epsilon")
    cfg.update(over)
    return _fake("DDPMScheduler", "diffusers.schedulers.scheduling_ddpm", config=types.SimpleNamespace(**cfg))


#: (value, function) pairs of VALUES × functions that are valid calls, not bad inputs.
VALID = {("-1", "peer_info(mu)"), ("None", "peer_info(mu)"), ("True", "ddpm_log_alpha_bar_bound(scaled)"),
         ("str", "schedule(a=)"), ("symbol", "schedule(a=)"), ("target", "target(spec)")}


def _library_kinds() -> list[tuple[str, object]]:
    from gifsym.symbolic.schedule import schedule
    from gifsym.symbolic.target import target
    from gifsym.theory import bounds

    kinds: list[tuple[str, object]] = []
    for k, v in VALUES.items():
        calls = {
            "parameterization(schedule)": lambda v=v: convert.parameterization(v, "x1", "velocity"),
            "parameterization(given)": lambda v=v: convert.parameterization(LIN, v, "velocity"),
            "transfer(source)": lambda v=v: convert.transfer(v, LIN),
            "transfer(target)": lambda v=v: convert.transfer(LIN, v),
            "sigma_min_path": lambda v=v: convert.sigma_min_path(v),
            "snr_inverse": lambda v=v: convert.snr_inverse(v),
            "smoothed_target(target)": lambda v=v: convert.smoothed_target(v, 1),
            "equivalent_flow": lambda v=v: convert.equivalent_flow(v),
            "to_peer(schedule)": lambda v=v: convert.to_peer(v, "diffusers"),
            "to_peer(peer)": lambda v=v: convert.to_peer(LIN, v),
            "to_peer(timesteps)": lambda v=v: convert.to_peer(DDPM, "diffusers", timesteps=v),
            "from_peer": lambda v=v: convert.from_peer(v),
            "peer_info(mu)": lambda v=v: convert.peer_info(_ddpm_config(), mu=v),
            "ddpm_log_alpha_bar_bound(beta_start)": lambda v=v: convert.ddpm_log_alpha_bar_bound(v, 0.02, 10),
            "ddpm_log_alpha_bar_bound(timesteps)": lambda v=v: convert.ddpm_log_alpha_bar_bound(1e-4, 0.02, v),
            "ddpm_log_alpha_bar_bound(scaled)": lambda v=v: convert.ddpm_log_alpha_bar_bound(1e-4, 0.02, 10,
                                                                                             scaled=v),
            "schedule(a=)": lambda v=v: schedule(a=v, b="t"),
            "target(spec)": lambda v=v: target(v),
        }
        for fname, call in calls.items():
            if fname in ("smoothed_target(target)",) and k == "target":
                continue  # a valid argument
            if k == "np.float64(0.5)" and fname in ("ddpm_log_alpha_bar_bound(beta_start)", "peer_info(mu)"):
                continue  # a valid real
            if (k, fname) in VALID:
                continue
            if k == "bigint" and fname in ("to_peer(timesteps)", "ddpm_log_alpha_bar_bound(timesteps)"):
                continue  # a valid count whose size is refused by the size checks (issue 22 section 3, not here)
            kinds.append((f"{fname} <- {k}", call))
    flow = gifsym.GIF(LIN, gifsym.target("slc:kappa=1"))
    kinds += [
        ("Bounds.at('erf(1001)')", lambda: bounds(flow).at("erf(1001)")),
        ("Bounds.at(10**5000)", lambda: bounds(flow).at(10**5000)),
        ("Bounds.at('nan')", lambda: bounds(flow).at("nan")),
        ("Bounds.at(2)", lambda: bounds(flow).at(2)),
        ("Bounds.at(None)", lambda: bounds(flow).at(None)),
        ("to_peer(timesteps=np.float64(0.5))", lambda: convert.to_peer(DDPM, "diffusers", timesteps=np.float64(0.5))),
        ("to_peer(timesteps=True)", lambda: convert.to_peer(DDPM, "diffusers", timesteps=True)),
        ("to_peer(timesteps=2.7)", lambda: convert.to_peer(DDPM, "diffusers", timesteps=2.7)),
        ("to_peer(timesteps=0)", lambda: convert.to_peer(DDPM, "diffusers", timesteps=0)),
        ("num_train_timesteps=2.7", lambda: convert.from_peer(_ddpm_config(num_train_timesteps=2.7))),
        ("num_train_timesteps=True", lambda: convert.from_peer(_ddpm_config(num_train_timesteps=True))),
        ("num_train_timesteps='1000'", lambda: convert.from_peer(_ddpm_config(num_train_timesteps="1000"))),
        ("beta_start='x'", lambda: convert.from_peer(_ddpm_config(beta_start="x"))),
        ("beta_schedule=None", lambda: convert.from_peer(_ddpm_config(beta_schedule=None))),
        ("DDPMScheduler without config", lambda: convert.from_peer(_fake("DDPMScheduler", "diffusers"))),
        ("FlowMatchEulerDiscreteScheduler without config",
         lambda: convert.from_peer(_fake("FlowMatchEulerDiscreteScheduler", "diffusers"))),
        ("PolynomialConvexScheduler without n",
         lambda: convert.from_peer(_fake("PolynomialConvexScheduler", "flow_matching.path.scheduler"))),
        ("PolynomialConvexScheduler n='2'",
         lambda: convert.from_peer(_fake("PolynomialConvexScheduler", "flow_matching.path.scheduler", n="2"))),
        ("VPScheduler without betas", lambda: convert.from_peer(_fake("VPScheduler", "flow_matching.path.scheduler"))),
        ("transfer.time_at(10**5000)", lambda: convert.transfer(LIN, LIN).time_at(10**5000)),
        ("transfer.time_at('x')", lambda: convert.transfer(LIN, LIN).time_at("x")),
        ("transfer.time_at(2)", lambda: convert.transfer(LIN, LIN).time_at(2)),
        ("ddpm_log_alpha_bar_bound(beta=1)", lambda: convert.ddpm_log_alpha_bar_bound(1e-4, 1, 10)),
        ("ddpm_log_alpha_bar_bound(timesteps=1)", lambda: convert.ddpm_log_alpha_bar_bound(1e-4, 0.02, 1)),
        ("schedule(a=sympy.nan)", lambda: schedule(a=sympy.nan, b="t")),
        ("schedule(a=sympy.zoo)", lambda: schedule(a=sympy.zoo, b="t")),
        ("schedule(a=Matrix)", lambda: schedule(a=sympy.Matrix([1]), b="t")),
        ("schedule unused __class__", lambda: schedule(a="1-t", b="t", __class__=1)),
        ("schedule unused c", lambda: schedule(a="1-t", b="t", c=1)),
        ("empirical_law(nan)", lambda: gifsym.target("empirical:x").law),
    ]
    return kinds


LIBRARY_KINDS = _library_kinds()


@pytest.mark.parametrize(("name", "call"), LIBRARY_KINDS, ids=[k for k, _ in LIBRARY_KINDS])
def test_library_refuses_with_a_gifsym_error(name, call, files, monkeypatch):
    monkeypatch.chdir(files)
    with pytest.raises(GifsymError):
        call()


def test_the_catalogue_is_large():
    names = [k for k, _ in CLI_KINDS] + [k for k, _ in LIBRARY_KINDS]
    assert len(set(names)) == len(names)  # distinct kinds
    assert len(names) >= 300
