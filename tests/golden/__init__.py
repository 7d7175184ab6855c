"""Golden outputs: every command on every bundled example, as fingerprints.

``python -m tests.golden`` (from the repository root) runs every command of ``cvm`` on every
bundled example in a temporary folder and writes ``tests/golden/fingerprints.json``: one SHA-256
per output file, and the exit code, standard output and standard error of each command as text
(so that a difference reads in the test's message). ``tests/test_golden.py`` runs the same
commands and compares. Regenerate only for a deliberate change of behaviour, in a commit of its
own that says why; never edit the file by hand.

Each example is copied whole into the temporary folder (cvm.yaml unchanged, its data at the
same relative paths), so that no path of the checkout reaches an output: the run id is a hash
of the inputs *as the project names them*, and a data file outside the project would be named
by its absolute path, which differs between checkouts.

What is fingerprinted, so that the fingerprints hold on every supported Python, pandas and
pyarrow and in any folder:

- text files byte for byte, with the temporary folder's path masked and the manifest's
  ``created_at`` masked (its ``outputs`` and ``engine`` left out);
- Parquet files by their schema and content written as CSV (the file's bytes carry the
  writer's version), with Arrow's two text types (``string``, ``large_string``: pandas 3 stores
  text in the second) read as one;
- the standard output and error, with the temporary folder's path and the seconds of the
  progress lines masked.

One machine can record every stack (checked on an Intel processor with AVX-512, 7 December
2026: each emulated stack reproduced the fingerprints recorded on the real one, on the code
before the change): numpy's own SIMD loops are limited to what the processor recorded had, and
OpenBLAS is told its kernel, before each of ``python -m tests.golden`` (numpy 2.4, SkylakeX),
then ``--add`` with each of:

- numpy 1.26 (Python 3.10, the oldest pins): ``OPENBLAS_CORETYPE=SkylakeX``;
- numpy 2.4, Haswell: ``NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR"
  OPENBLAS_CORETYPE=Haswell``;
- numpy 1.26, Haswell + Zen: ``NPY_DISABLE_CPU_FEATURES="AVX512F AVX512CD AVX512_SKX AVX512_CLX
  AVX512_CNL AVX512_ICL AVX512_SPR" OPENBLAS_CORETYPE=Zen``.

numpy 2.5 (Python 3.12's newest, CI's main job) is recorded on SkylakeX only: no real Haswell
machine's recording of it exists to check an emulation against, so elsewhere its job checks
the outputs every recorded stack shares.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
FINGERPRINTS = Path(__file__).resolve().parent / "fingerprints.json"
# the examples (their folder) and the customers explained in each: a repeat buyer, a one-time
# buyer, one more, and one that is not in the data (an error, exit 1)
EXAMPLES = {"retail": (ROOT, ("C000001", "C000002", "C001234", "C999999")),
            "cdnow": (ROOT / "examples" / "cdnow", ("00001", "00002", "00100", "99999")),
            "subscription": (ROOT / "examples" / "subscription",
                             ("S00001", "S00664", "S02289", "S99999"))}
# the change proposed to each example for `cvm plan`: file, text, replacement
CHANGE = {"retail": ("policies/win_back.yaml", "clv_discounted: {gte: 25}",
                     "clv_discounted: {gte: 10}"),
          "cdnow": ("policies/win_back.yaml", "clv_discounted: {gte: 10}",
                    "clv_discounted: {gte: 2}"),
          "subscription": ("policies/save_at_risk.yaml", "churn_risk: {gte: 0.085}",
                           "churn_risk: {gte: 0.07}")}
PROJECT_PARTS = ("cvm.yaml", "rules", "policies", "templates")
SPEND_FILES = ("marketing_spend.csv", "marketing_spend.yaml", "marketing_spend.yml")


def _copy(name: str, tmp: Path) -> Path:
    """The example as a project of its own in ``tmp``: cvm.yaml, rules/, policies/, templates/
    and the data files at the paths cvm.yaml names (and a spend file beside them)."""
    src, _ = EXAMPLES[name]
    project = tmp / name
    project.mkdir(parents=True)
    for part in PROJECT_PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, project / part)
        elif (src / part).is_file():
            shutil.copyfile(src / part, project / part)
    data = yaml.safe_load((src / "cvm.yaml").read_text())["data"]
    files = [data[k] for k in ("transactions", "customers") if data.get(k)]
    for rel in files:
        for path in [src / rel, *((src / rel).parent / s for s in SPEND_FILES)]:
            if path.is_file():
                target = project / path.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    return project


def commands(name: str, project: Path, out: Path) -> Iterator[tuple[str, list[str]]]:
    """(label, arguments) of every command run on an example, in order (the proposal for
    ``cvm plan`` is beside the project)."""
    p = ["--project", str(project)]
    yield "validate", ["validate", *p]
    yield "validate-strict", ["validate", "--strict", *p]
    yield "score", ["score", *p, "--out", str(out / "score")]
    yield "decide", ["decide", *p, "--out", str(out / "decide")]
    for cid in EXAMPLES[name][1]:
        yield f"explain-{cid}", ["explain", *p, cid]
    yield "run", ["run", *p, "--out", str(out / "run")]
    # (on CDNOW too: its ids are digits with leading zeros, text in every format)
    yield "run-jsonl", ["run", *p, "--out", str(out / "run-jsonl"), "--format", "jsonl"]
    yield "run-parquet", ["run", *p, "--out", str(out / "run-parquet"), "--format",
                          "parquet"]
    yield "report", ["report", *p, "--out", str(out / "run")]  # with the latest run
    yield "fit", ["fit", *p, "--out", str(out / "fit")]
    proposed = project.parent / f"{name}-proposed"
    yield "plan", ["plan", *p, "--proposed", str(proposed),
                   "--report", str(out / "plan" / "plan.md"),
                   "--changes", str(out / "plan" / "changes.csv")]
    if name != "cdnow":  # the page's writer is one for every example: on the two smaller
        # ones (each is a whole plan again, both sides: CDNOW's took seconds of CI)
        yield "plan-html", ["plan", *p, "--proposed", str(proposed),
                            "--report", str(out / "plan" / "plan.html")]
    yield "plan-overlay", ["plan", *p, "--overlay", "--proposed",
                           str(project.parent / f"{name}-overlay"), "--detailed-exitcode"]


def _proposal(name: str, project: Path) -> None:
    """The change of ``CHANGE``, as a complete copy of the project (``NAME-proposed``) and as a
    folder holding only the changed file (``NAME-overlay``), for ``cvm plan``."""
    file, old, new = CHANGE[name]
    text = (project / file).read_text()
    assert old in text, f"{name}/{file} no longer holds {old!r}: update CHANGE"
    shutil.copytree(project, project.parent / f"{name}-proposed")
    for folder in ("proposed", "overlay"):
        path = project.parent / f"{name}-{folder}" / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace(old, new))


def _given(project: Path) -> dict[str, str]:
    """SHA-256 of each file of the project the user gave (all but the engine's history)."""
    return {p.relative_to(project).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(project.rglob("*"))
            if p.is_file() and ".cvm" not in p.relative_to(project).parts}


def _schema_text(schema: object) -> str:
    # pandas 3 stores text as large_string, pandas 2 as string: the same values
    return re.sub(r"\blarge_string\b", "string", str(schema))


def _file_print(path: Path, tmp: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        table = table.cast(pa.schema([
            pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else f.type)
            for f in table.schema]))
        sink = io.BytesIO()
        pacsv.write_csv(table, sink)
        data = _schema_text(table.schema.remove_metadata()).encode() + b"\n" + sink.getvalue()
    else:
        data = _masked(data.decode("utf-8"), tmp).encode("utf-8")
        if path.name == "manifest.json":
            data = re.sub(rb'"created_at": "[^"]*"', b'"created_at": "-"', data)
            # the hashes of the run's own files: customers.parquet's bytes carry the writer's
            # version (its content is fingerprinted above), so they are left out
            data = re.sub(rb'  "outputs": \{[^}]*\},\n', b"", data)
            # which engine made the run: {"name": "local"} in every golden run (its values are
            # checked by tests/test_dask_engine.py); left out so that the fingerprints recorded
            # on every numeric stack before the field existed still hold the rest of the file
            data = re.sub(rb'  "engine": \{[^}]*\},\n', b"", data)
    return hashlib.sha256(data).hexdigest()


def _masked(data: str, tmp: Path) -> str:
    """The temporary folder's path masked, also where Markdown escaped it (``\\_``)."""
    pattern = "".join(c if c.isalnum() else r"\\?" + re.escape(c) for c in str(tmp))
    return re.sub(pattern, "<tmp>", data)


def _text(text: str, tmp: Path) -> str:
    return re.sub(r"\[ *\d+\.\d s\]", "[- s]", _masked(text, tmp))  # progress lines' seconds


def fingerprints(tmp: Path, around: Callable[[str], AbstractContextManager[object]] | None = None
                 ) -> dict[str, str]:
    """Run every command on every example in ``tmp``; the fingerprint of everything written.
    ``around``: a context manager entered around each command, given its key (``NAME/LABEL``),
    for tests that observe the same commands (the session's one golden run, tests/conftest.py)."""
    from typer.testing import CliRunner

    from engine.cli import app

    # each example's history in its own copy (<project>/.cvm/), as a user's would be: not where
    # the test suite points CVM_HISTORY_URL, so that pytest and `python -m tests.golden` agree
    runner = CliRunner(env={"CVM_HISTORY_URL": None})
    prints: dict[str, str] = {}
    for name in EXAMPLES:
        project = _copy(name, tmp / "projects")
        _proposal(name, project)
        out = tmp / "out" / name
        given = _given(project)
        for label, args in commands(name, project, out):
            # the history of each example copy's own folder (.cvm/), whatever the caller's
            # environment says (tests point CVM_HISTORY_URL at a temporary file of their own)
            with around(f"{name}/{label}") if around else nullcontext():
                result = runner.invoke(app, args, env={"CVM_HISTORY_URL": None})
            # a crash is never an expected output (a stack's venv without a dependency once
            # recorded "internal error: ModuleNotFoundError" as golden)
            assert "internal error" not in result.stderr, \
                f"{name}/{label}: an internal error, not a golden output:\n{result.stderr}"
            prints[f"{name}/{label}/output"] = _text(
                f"exit {result.exit_code}\n--- stdout\n{result.stdout}--- stderr\n"
                f"{result.stderr}", tmp)
        # never a fingerprint (the file would change): what the user gave is never written
        now = _given(project)
        changed = sorted(k for k in given.keys() | now.keys() if given.get(k) != now.get(k))
        assert not changed, f"the commands changed {name}'s own files: {changed}"
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            prints[f"{name}/{path.relative_to(out).as_posix()}"] = _file_print(path, tmp)
    return prints


def stack() -> str:
    """The numeric libraries that compute the fitted models' figures, as a key of the file.

    The probabilistic models are fitted by maximum likelihood (scipy's optimiser over numpy's
    and scipy's special functions and their BLAS), whose last bits differ between versions of
    those libraries (numpy 1.26 and 2.4 fit MBG/NBD's r as 2.209179924 and 2.209179852) and
    between the BLAS kernels OpenBLAS picks for the processor (SkylakeX on an Intel processor
    with AVX-512, Haswell on an AMD EPYC with the same libraries): enough to move a rounded
    p_alive or potential value by one unit in the last place. Those figures are recorded per
    numeric stack, never rounded away; pandas, pyarrow and Python give the same bytes whatever
    their version (checked with pandas 2.2 and 3.1, pyarrow 15 and 26, Python 3.10 and 3.11).
    """
    import numpy
    import scipy
    import scipy.linalg  # loads scipy's own BLAS, for threadpool_info
    from threadpoolctl import threadpool_info

    def short(version: str) -> str:
        return ".".join(version.split(".")[:2])

    kernels = sorted({f"{i['internal_api']} {i.get('architecture') or '?'}"
                      for i in threadpool_info() if i["user_api"] == "blas"})
    return (f"numpy {short(numpy.__version__)}, scipy {short(scipy.__version__)}, "
            f"{' + '.join(kernels) or 'no BLAS'}")


def load() -> dict[str, dict[str, str]]:
    """The recorded fingerprints, whole, by numeric stack."""
    if not FINGERPRINTS.is_file():
        return {}
    recorded = json.loads(FINGERPRINTS.read_text())
    common: dict[str, str] = recorded["common"]
    return {name: {**common, **own} for name, own in recorded["stacks"].items()}


def expected(stacks: dict[str, dict[str, str]], current: str) -> tuple[dict[str, str], str]:
    """What this environment must reproduce, and what that is: every fingerprint of its own
    stack when one is recorded; else those on which every recorded stack agrees (the outputs
    no fitted figure reaches)."""
    if current in stacks:
        return stacks[current], f"every output, as recorded with {current}"
    common = _common(stacks)
    return common, (f"the {len(common)} outputs equal in every recorded stack ({'; '.join(stacks)})"
                    f": none is recorded for {current}, whose fitted figures may differ in "
                    "the last digits (python -m tests.golden --add records it)")


def _common(stacks: dict[str, dict[str, str]]) -> dict[str, str]:
    if not stacks:
        return {}
    first, *others = stacks.values()
    return {k: v for k, v in first.items() if all(o.get(k) == v for o in others)}


def main(argv: list[str] | None = None) -> int:
    """Record this environment's fingerprints (see the options' help)."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(
        prog="python -m tests.golden", allow_abbrev=False,
        description="Run every cvm command on every bundled example and record the "
                    "fingerprints of what they write, for this numeric stack "
                    f"({stack()}). With no option, this stack alone is recorded (a change "
                    "of behaviour: every other stack must then be recorded again, with --add).")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--add", action="store_true",
                     help="record this stack beside the stacks recorded (replacing its own)")
    how.add_argument("--shared", action="store_true",
                     help="a change that reaches only outputs every recorded stack shares: "
                          "write them in every stack; refused when an output recorded per "
                          "stack changed, or one is new or no longer written")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory() as tmp:
        prints = fingerprints(Path(tmp).resolve())
    stacks = load() if args.add or args.shared else {}
    if args.shared:
        refused = _refused_as_shared(stacks, prints)
        if refused:
            print(f"not written: {refused}", file=sys.stderr)
            return 1
        shared = _common(stacks).keys()
        stacks = {name: {**found, **{k: prints[k] for k in shared}}
                  for name, found in stacks.items()}
    else:
        stacks[stack()] = prints
    common = _common(stacks)
    own = {name: {k: v for k, v in found.items() if k not in common}
           for name, found in sorted(stacks.items())}
    FINGERPRINTS.write_text(json.dumps({"about": ABOUT, "common": common, "stacks": own},
                                       indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(prints)} fingerprints for {stack()} to {FINGERPRINTS} "
          f"({len(stacks)} stack(s) recorded{', the shared ones in each' * args.shared})")
    return 0


def _refused_as_shared(stacks: dict[str, dict[str, str]], prints: dict[str, str]) -> str:
    """Why ``prints`` cannot be written into every recorded stack as shared outputs ("" when
    it can): this stack is not recorded, an output is new or gone, or one recorded per stack
    (one the fitted figures reach) changed."""
    current = stack()
    if current not in stacks:
        return f"{current} is not recorded (--add records it)"
    again = "record every stack again (python -m tests.golden, then --add on each other)"
    recorded, common = stacks[current], _common(stacks)
    moved = [f"{k} is new" for k in sorted(prints.keys() - recorded.keys())] + \
        [f"{k} is no longer written" for k in sorted(recorded.keys() - prints.keys())]
    if moved:
        return f"{', '.join(moved)}: {again}"
    own = [k for k in sorted(prints) if prints[k] != recorded[k] and k not in common]
    if own:
        return (f"{', '.join(own)} {'differs and is' if len(own) == 1 else 'differ and are'} "
                f"recorded per stack (the fitted figures reach {'it' if len(own) == 1 else 'them'}"
                f"): {again}")
    return ""


ABOUT = ("Golden outputs of every cvm command on every bundled example (tests/golden): those "
         "equal in every numeric stack recorded (common), and each stack's own (the outputs "
         "its fitted figures reach). Written by python -m tests.golden; never edit by hand.")


if __name__ == "__main__":
    sys.exit(main())
