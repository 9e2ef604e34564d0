"""The on-disk cache of derived results (gifsym.store): safe to read, keyed by the inputs, robust to corrupt
files, and its results equal to fresh derivations."""

from __future__ import annotations

import json
import os

import pytest
import sympy

from gifsym import GIF, schedule, store, target, theory
from gifsym.store import StoreError, parse_srepr
from gifsym.symbolic import inventory
from gifsym.theory import jacobian_bounds
from gifsym.theory.flow_maps import flow_map_lipschitz as raw_flow_map
from gifsym.theory.lemmas import registry

FLOW_SPECS = [("vp", "ball:R=1+slc:kappa=-0.5"), ("trigonometric", "conv:sigma=0.5,R=2"),
              ("linear", "slc:kappa"), ("ve", "gaussian:sigma=0.7,dim=2,mean=[1,-0.5]")]


def _clear():
    theory._derived.clear()
    store._parse_cached.cache_clear()
    getattr(store, "_warned", [False])[0] = False  # the one warning line per process: each test is a process of its own
    if hasattr(store, "_secret"):
        store._secret.cache_clear()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GIFSYM_CACHE", str(tmp_path / "cache"))
    _clear()
    yield tmp_path / "cache"
    _clear()


def test_srepr_round_trips_every_result_of_the_inventory():
    for s in inventory.schedules()[:4]:
        for tg in inventory.class_targets().values():
            b = theory.bounds(GIF(s, tg))
            for e in (b.upper, b.lower, b.lipschitz, b.interval, *(p.condition for p in b.pieces)):
                assert parse_srepr(sympy.srepr(e)) == e


def test_the_remembered_srepr_is_sympys_srepr():
    # Texts are reused for the same object only: x + 1.0 at 15 and at 40 digits print differently.
    x = sympy.Symbol("x", positive=True)
    low, high = x + sympy.Float(1, 15), x + sympy.Float(1, 40)
    for e in (low, high, low, high):
        assert store.srepr(e) == sympy.srepr(e)
    assert store.srepr(low) != store.srepr(high)
    # Objects that die free their ids for new ones: a text remembered by id alone would be handed to a
    # stranger (with a memo that neither checks nor holds the object, about 2,000 of these 3,000 go wrong).
    for i in range(3000):
        e = sympy.Tuple(x, sympy.Integer(i) + x)
        assert store.srepr(e) == sympy.srepr(e)
        del e
    # Every stored result of a few flows, encoded twice (the second time from remembered texts).
    for s in inventory.schedules()[:3]:
        for tg in list(inventory.class_targets().values())[:3]:
            b, fm = theory.bounds(GIF(s, tg)), theory.flow_map_lipschitz(GIF(s, tg))
            for result in (b, fm, b, fm):
                text = json.dumps(store.encode(result, {}))
                assert text == json.dumps(_encode_plain(result))


def _encode_plain(obj):
    """store.encode with SymPy's own srepr, for the comparison above."""
    original = store.srepr
    store.srepr = sympy.srepr
    try:
        return store.encode(obj, {})
    finally:
        store.srepr = original


@pytest.mark.parametrize("text", [
    "__import__('os').system('touch PWNED')",
    "Symbol('x').__class__",
    "(lambda: 1)()",
    "Integer(1) + Integer(2)",
    "Symbol(*['x'])",
    "Symbol('x', **{'real': True})",
    "open('/etc/passwd')",
    "[x for x in ()]",
    "Symbol('x')[0]",
])
def test_hostile_text_is_refused_without_running(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError):
        parse_srepr(text)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("sched, spec", FLOW_SPECS)
def test_results_from_disk_equal_fresh_derivations(cache, sched, spec):
    flow = GIF(schedule(sched), target(spec))
    first_b, first_fm = theory.bounds(flow), theory.flow_map_lipschitz(flow)
    assert len(list((cache / "bounds").glob("*.json"))) == 1
    assert len(list((cache / "flow-map").glob("*.json"))) == 1
    _clear()  # a new process: only the disk remains
    with pytest.MonkeyPatch.context() as mp:  # read back, not derived again: deriving now is an error
        for module, name in ((jacobian_bounds, "bounds"), (theory.flow_maps, "flow_map_lipschitz")):
            mp.setattr(module, name, lambda *a, **k: pytest.fail("a stored result was derived again"))
        b, fm = theory.bounds(flow), theory.flow_map_lipschitz(flow)
    fresh_b = jacobian_bounds.bounds(flow, registry=registry())
    fresh_fm = raw_flow_map(flow, registry=registry())
    assert b == fresh_b == first_b and fm == fresh_fm == first_fm
    assert b.schedule == flow.schedule and b.target == flow.target
    assert b.values([0.3, 0.6]) == fresh_b.values([0.3, 0.6])


def test_corrupt_or_edited_files_are_ignored(cache):
    flow = GIF(schedule("linear"), target("slc:kappa=2"))
    want = theory.bounds(flow)
    (path,) = (cache / "bounds").glob("*.json")
    doc = json.loads(path.read_text())
    # An edit without the matching checksum: ignored, recomputed, rewritten.
    doc["payload"]["fields"]["upper"] = {"sympy": "Integer(7)"}
    path.write_text(json.dumps(doc))
    _clear()
    assert theory.bounds(flow) == want
    # A truncated file: the same.
    path.write_text(path.read_text()[:100])
    _clear()
    assert theory.bounds(flow) == want
    assert json.loads(path.read_text())["key"] == path.stem  # rewritten whole


def _resign(cache, path, upper, *, sig=None, with_key=True):
    """Put ``upper`` (an srepr) in a stored Bounds entry and sign it again: with the old format's checksum
    (what the audit did) and, ``with_key``, with the cache's own key (an attacker who even read the key).
    ``sig``: the signature to record (default: the original's, which an edit of the text alone leaves)."""
    import hashlib
    import hmac

    doc = json.loads(path.read_text())
    old = doc["payload"]["fields"]["upper"]
    doc["payload"]["fields"]["upper"] = {"sympy": upper, "sig": old.get("sig") if sig is None else sig}
    text = json.dumps(doc["payload"], sort_keys=True, separators=(",", ":"))
    doc["sha256"] = hashlib.sha256(text.encode()).hexdigest()
    if with_key and (cache / "secret").exists():
        doc["hmac"] = hmac.new((cache / "secret").read_bytes(), text.encode(), hashlib.sha256).hexdigest()
    path.write_text(json.dumps(doc))


def test_a_tampered_file_with_a_valid_checksum_cannot_run_code(cache, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    flow = GIF(schedule("linear"), target("slc:kappa=2"))
    want = theory.bounds(flow)
    (path,) = (cache / "bounds").glob("*.json")
    _resign(cache, path, "__import__('os').system('touch PWNED')")
    _clear()
    assert theory.bounds(flow) == want
    assert not (tmp_path / "PWNED").exists()


T = "Symbol('t', real=True)"


_FORGERIES = [
    ("Integer(-5)", None),  # the audit's forgery: printed as the bound, exit 0
    ("nan", None), ("nan", "NaN"), ("Float('nan', precision=53)", "Float"),
    (f"Function('f')({T})", None), (f"Function('f')({T})", "f"),
    (f"Mul(Symbol('x', real=True), {T})", None),  # a symbol the derivation never has
    ("Pow(Integer(3), Integer(100000))", None),  # a huge number: refused before it is built
]


@pytest.mark.parametrize("upper, sig, with_key", [
    *((u, s, False) for u, s in _FORGERIES),
    # ... recorded as an Integer, consistently: without the key, the HMAC refuses it (with the key, it is
    # the owner's own edit, and only the folder's permissions keep others from the key: below)
    ("Integer(-5)", "Integer", False),
    *((u, s, True) for u, s in _FORGERIES),
])
def test_a_resigned_entry_is_never_used(cache, upper, sig, with_key):
    flow = GIF(schedule("linear"), target("slc:kappa=2"))
    want = theory.bounds(flow)
    (path,) = (cache / "bounds").glob("*.json")
    original = json.loads(path.read_text())["payload"]["fields"]["upper"]
    recorded = None if sig is None else [sig, [T] if "Symbol" in upper else [], sig == "Integer"]
    _resign(cache, path, upper, sig=recorded, with_key=with_key)
    _clear()
    got = theory.bounds(flow)
    assert got == want and got.upper == want.upper  # derived again, not the forgery
    # ... and the forged entry replaced by the true one
    assert json.loads(path.read_text())["payload"]["fields"]["upper"] == original


#: The entries that hung or exhausted memory before (issue 22), each tried in turn by _HANG_WORKER.
HANG_CASES = ["pow", "fifo", "urandom", "zero", "huge", "folder"]

_HANG_WORKER = """
import json, os, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))  # /dev/zero fails this run, not the machine
sys.path[:0] = [os.getcwd(), os.path.join(os.getcwd(), "tests")]
from click.testing import CliRunner
import sympy
from gifsym import store, theory
from gifsym.cli import app
import test_store as ts

cache = Path(os.environ["GIFSYM_CACHE"])
argv = ["bounds", "--schedule", "linear", "--target", "slc:kappa=2", "--json"]
want = CliRunner().invoke(app, argv, catch_exceptions=False).stdout
(path,) = (cache / "bounds").glob("*.json")
good = json.loads(path.read_text())
for bad in sys.argv[1:]:
    if bad == "pow":  # rebuilt, 3^(10^9) ran for 40 minutes in C
        ts._resign(cache, path, "Pow(Integer(3), Integer(1000000000))")
    else:
        path.unlink()
        if bad == "fifo":  # open() waited for a writer forever
            os.mkfifo(path)
        elif bad in ("urandom", "zero"):  # endless; /dev/zero grew to 3.8 GB
            os.symlink("/dev/" + bad, path)
        elif bad == "huge":  # a regular file beyond the size cap
            path.write_text(" " * (getattr(store, "MAX_ENTRY_BYTES", 2**22) + 1))
        else:
            path.mkdir()
    theory._derived.clear()
    store._parse_cached.cache_clear()
    got = CliRunner().invoke(app, argv, catch_exceptions=False)
    assert got.exit_code == 0 and got.stdout == want, (bad, got.output)
    if bad == "folder":  # a folder in an entry's place is left alone
        path.rmdir()
        path.write_text(json.dumps(good))
    else:  # replaced by the true entry, a regular file
        assert path.is_file() and not path.is_symlink(), bad
        assert json.loads(path.read_text()) == good, bad
    print("ok", bad, flush=True)
"""


def _worker(code, cases, env=None, timeout=120):
    """Run ``code`` with ``cases`` as arguments in a process of its own, under 3 GB of address space and a
    wall clock of ``timeout`` s (the honest runs take 2-10 s on a loaded 2-core machine): a hang or a
    runaway read fails the test and names the case, never the machine. ``code`` prints ``ok CASE`` after
    each case that passed."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = "import resource; resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))\n" + code
    try:
        run = subprocess.run([sys.executable, "-c", code, *cases], capture_output=True, text=True,
                             timeout=timeout, env={**os.environ, **(env or {})}, cwd=root)
        out, err = run.stdout, run.stderr
    except subprocess.TimeoutExpired as e:
        out, err = (e.stdout or b"").decode(), f"timed out after {timeout} s (hung)"
    done = [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("ok ")]
    assert done == list(cases), f"case {cases[len(done)]!r} failed: {err[-2000:]}"


def test_an_entry_that_would_hang_is_ignored_and_replaced(cache):
    """Each case of HANG_CASES in one worker process (one import for all): the command answers as with a
    good entry, and the bad one is replaced."""
    _worker(_HANG_WORKER, HANG_CASES, env={"GIFSYM_CACHE": str(cache)})


def test_the_cache_is_private(cache, monkeypatch):
    # Whatever the umask (002 would make files group-writable), folders are 0700 and files 0600.
    old = os.umask(0o002)
    try:
        theory.bounds(GIF(schedule("linear"), target("slc:kappa=2")))
    finally:
        os.umask(old)
    for p in (cache, cache / "bounds"):
        assert p.stat().st_mode & 0o777 == 0o700
    for p in (cache / "secret", *(cache / "bounds").glob("*.json")):
        assert p.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("where", ["entry", "kind", "root", "owner", "key"])
def test_a_cache_others_can_write_is_not_used(cache, where, capfd, monkeypatch):
    flow = GIF(schedule("linear"), target("slc:kappa=2"))
    want = theory.bounds(flow)
    (path,) = (cache / "bounds").glob("*.json")
    # A forgery that passes every content check (signed with the key, consistent signature): only the
    # permissions can keep it out, as for ssh's and pip's files.
    _resign(cache, path, "Integer(-5)", sig=["Integer", [], True])
    if where == "owner":
        uid = os.geteuid()
        monkeypatch.setattr(os, "geteuid", lambda: uid + 1)
    elif where == "key":  # a key others can read lets them sign
        (cache / "secret").chmod(0o644)
    else:
        target_path = {"entry": path, "kind": cache / "bounds", "root": cache}[where]
        target_path.chmod(target_path.stat().st_mode | 0o020)
    _clear()
    capfd.readouterr()
    for _ in range(3):
        theory._derived.clear()
        assert theory.bounds(flow) == want
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and err.startswith("Warning: ") and "the cache is not used" in err
    assert ("another user" in err) == (where == "owner") and ("readable" in err) == (where == "key")


def test_gifsym_cache_naming_a_file_warns(tmp_path, monkeypatch, capfd):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("GIFSYM_CACHE", str(tmp_path / "file"))
    _clear()
    flow = GIF(schedule("linear"), target("slc:kappa=2"))
    assert theory.bounds(flow).upper == jacobian_bounds.bounds(flow, registry=registry()).upper
    err = capfd.readouterr().err
    assert err.startswith("Warning: ") and "not a folder" in err and err.count("\n") == 1
    assert (tmp_path / "file").read_text() == ""
    _clear()


def test_the_key_names_the_versions_of_sympy_and_flint(monkeypatch):
    def fresh_key():
        store.code_fingerprint.cache_clear()
        try:
            return store.key("bounds", "x")
        finally:
            store.code_fingerprint.cache_clear()

    base = fresh_key()
    monkeypatch.setattr(sympy, "__version__", sympy.__version__ + ".post1")
    assert fresh_key() != base
    monkeypatch.undo()
    assert fresh_key() == base
    real = store._version
    monkeypatch.setattr(store, "_version", lambda d: real(d) + ".post1" if d == "python-flint" else real(d))
    assert fresh_key() != base


COSTLY_TEXTS = [
    "Add(" * 120 + "Integer(1)" + ")" * 120,  # deeper than any derivation (17)
    "Float('0.5', precision=100000000)",
    "Pow(Integer(3), Rational(1000000001, 2))",  # 3^500000000·√3: minutes in C
    "Pow(Rational(1, 3), Integer(-100000))",
]


def test_costly_text_is_refused_before_it_is_built():
    # In a worker process: built, some of these run for minutes in C, where no budget interrupts.
    code = ("import sys; sys.path.insert(0, '.'); from gifsym.store import StoreError, parse_srepr\n"
            "for text in sys.argv[1:]:\n"
            "    try:\n        parse_srepr(text)\n    except StoreError:\n        print('ok', text, flush=True)\n")
    _worker(code, COSTLY_TEXTS)


def test_entries_are_written_without_a_sync_and_files_with_one(cache, tmp_path, monkeypatch):
    """A cache entry needs no fsync (a torn one fails its checksum, above); a user's output file gets one."""
    from gifsym.io import write_atomic

    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    theory.bounds(GIF(schedule("linear"), target("slc:kappa=2")))
    assert list((cache / "bounds").glob("*.json")) and synced == []
    write_atomic(tmp_path / "out.txt", "x")
    assert len(synced) == 1 and (tmp_path / "out.txt").read_text() == "x"


def test_the_key_depends_on_every_input(cache):
    a = GIF(schedule("vp"), target("slc:kappa=2"))
    b = GIF(schedule("vp:beta_max=19"), target("slc:kappa=2"))
    c = GIF(schedule("vp"), target("slc:kappa=3"))
    for f in (a, b, c):
        theory.bounds(f)
    theory.bounds(a, assume=("S-mono",))
    assert len(list((cache / "bounds").glob("*.json"))) == 4


def test_off_and_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("GIFSYM_CACHE", "off")
    assert store.cache_dir() is None
    monkeypatch.delenv("GIFSYM_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert store.cache_dir() == tmp_path / "xdg" / "gifsym"
    _clear()
    theory.bounds(GIF(schedule("linear"), target("ball:R=1")))
    assert list((tmp_path / "xdg" / "gifsym" / "bounds").glob("*.json"))
    _clear()


def test_a_given_registry_bypasses_the_cache(cache):
    flow = GIF(schedule("linear"), target("slc:kappa=2"))
    theory.bounds(flow, registry=registry())
    assert not cache.exists() or not list(cache.rglob("*.json"))


def test_the_tests_run_without_a_cache():
    # conftest turns the cache off so that no test depends on files of an earlier run.
    assert os.environ.get("GIFSYM_CACHE") == "off"


def test_a_result_cut_short_by_a_budget_is_kept_nowhere(cache):
    # A result degraded by a time or memory budget must not stick (on disk or in the process): the same
    # question asked again, with more time, gets the full answer.
    from gifsym import budget

    calls = []

    def cut_short():
        calls.append(1)
        budget._exceeded[0] += 1  # what a budget running out inside the derivation does
        return sympy.Integer(len(calls))

    assert store.cached("test", {"x": 1}, {}, cut_short) == 1
    assert store.cached("test", {"x": 1}, {}, cut_short) == 2  # derived again, not read back
    assert not (cache / "test").exists()
    assert store.cached("test", {"x": 2}, {}, lambda: sympy.Integer(5)) == 5
    assert len(list((cache / "test").glob("*.json"))) == 1


def test_the_code_fingerprint_covers_the_prover_and_the_budgets(tmp_path, monkeypatch):
    # A change to any module a derivation runs (also in subpackages such as the prover) invalidates the cache.
    from pathlib import Path

    import gifsym

    root = Path(gifsym.__file__).parent
    files = {p.relative_to(root).as_posix() for p in (root / "symbolic").rglob("*.py")}
    assert "symbolic/prove/relations.py" in files
    read = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: (read.append(self.relative_to(root).as_posix()),
                                                           real(self))[1])
    store.code_fingerprint.cache_clear()
    try:
        store.code_fingerprint()
    finally:
        store.code_fingerprint.cache_clear()
    assert {"budget.py", "symbolic/prove/relations.py", "theory/engine.py"} <= set(read)


def test_source_stability_is_stored_and_read_back(cache):
    from gifsym.theory import stability

    flow = GIF(schedule("vp"), target("conv:sigma=0.5,R=1"))
    first = theory.source_stability(flow)
    assert len(list((cache / "source-stability").glob("*.json"))) == 1
    _clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(stability, "source_stability", lambda *a, **k: pytest.fail("a stored result was derived again"))
        again = theory.source_stability(flow)
    assert again == first == stability.source_stability(flow)


@pytest.mark.parametrize("spec", ["condot:sigma_min=0.01", "linear"])
def test_a_sigma_min_path_is_stored_and_read_back(cache, spec):
    # A σ_min path takes SymPy seconds to derive (EDM's): a second process reads it back and derives
    # nothing; ``None`` (a_1 = 0, no path) is stored as well.
    from gifsym.symbolic.convert import sigma_min

    s = schedule(spec)
    sigma_min._sigma_min_path.cache_clear()
    first = sigma_min.sigma_min_path(s)
    assert (first is None) == (spec == "linear")
    assert len(list((cache / "sigma-min-path").glob("*.json"))) == 1
    _clear()
    sigma_min._sigma_min_path.cache_clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sigma_min, "_derive_sigma_min_path", lambda *a: pytest.fail("a stored path was derived again"))
        again = sigma_min.sigma_min_path(s)
    sigma_min._sigma_min_path.cache_clear()
    assert again == first == sigma_min._derive_sigma_min_path(s)
    if first is not None:  # the stored path is usable: its schedule and verdicts came back whole
        assert again.schedule.a == first.schedule.a and again.existence.status == "holds"
        assert again.original is s  # the input is stored by name and put back


_WARM_RUN = """
import sys
from gifsym.symbolic import compact, schedule
from gifsym.symbolic.convert import sigma_min
from gifsym.theory import flow_maps, jacobian_bounds, stability


def derived(*args, **kwargs):
    raise AssertionError("a stored result was derived again")


sigma_min._derive_sigma_min_path = compact._compact_many = derived
jacobian_bounds.bounds = flow_maps.flow_map_lipschitz = stability.source_stability = derived
schedule._CHECKS = {k: derived for k in schedule._CHECKS}
from gifsym.cli import main
try:
    main(sys.argv[1:])
finally:
    heavy = sorted(m for m in ("numpy", "networkx", "scipy", "jax", "matplotlib", "torch") if m in sys.modules)
    print("imported:", heavy, file=sys.stderr)
"""


def test_a_warm_bounds_run_derives_nothing_and_imports_no_numerics(tmp_path):
    # Issue 21: a second ``bounds`` of a flow reads every derived result back (here a σ_min path: its
    # reading, the schedule's checks, bounds, flow-map constants, source stability, compact forms) and needs
    # neither NumPy nor networkx, let alone JAX: a new process where deriving any of them fails answers the
    # same as the process that derived them.
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "GIFSYM_CACHE": str(tmp_path / "cache")}
    args = ["bounds", "--schedule", "condot:sigma_min=0.01", "--target", "slc:kappa=2"]
    cold = subprocess.run([sys.executable, str(root / "cli.py"), *args], capture_output=True, text=True, env=env,
                          cwd=root, timeout=300)
    assert cold.returncode == 0, cold.stderr
    warm = subprocess.run([sys.executable, "-c", _WARM_RUN, *args], capture_output=True, text=True, env=env,
                          cwd=root, timeout=300)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout == cold.stdout and "a_1 = sigma_min = 1/100" in warm.stdout
    assert "imported: []" in warm.stderr
