"""The batch commands keep the memory they free (engine/memory.py): glibc's heap serves the
large arrays and keeps them when freed, numpy asks no huge pages, Arrow uses the same heap."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from engine import cli, memory

# in a fresh process: the settings are process-wide, and the test's own must stay as they are
PROBE = textwrap.dedent("""
    import ctypes, ctypes.util, sys
    from engine.memory import keep_freed_memory
    if sys.argv[1] == "imported first":
        import numpy as np, pyarrow as pa
    else:  # as the cvm command: numpy and pyarrow imported after (set by their variables)
        applied = keep_freed_memory()
        import numpy as np, pyarrow as pa

    class Info(ctypes.Structure):  # glibc's struct mallinfo2
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks",
                    "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.mallinfo2.restype = Info
    core = getattr(np, "_core", None) or np.core

    def info(): return libc.mallinfo2()

    if sys.argv[1] == "imported first":
        print("before", core.multiarray._get_madvise_hugepage(),
              pa.default_memory_pool().backend_name)
        applied = keep_freed_memory()
    print("applied", "; ".join(applied))
    print("after", core.multiarray._get_madvise_hugepage(), pa.default_memory_pool().backend_name)
    before = info()
    block = np.ones(64 * 2**20 // 8)  # 64 MB: glibc would map it apart and unmap it when freed
    during = info()
    del block
    after = info()
    print("mapped apart", during.hblkhd - before.hblkhd,
          "on the heap", during.uordblks - before.uordblks >= 64 * 2**20,
          "heap kept after free", after.arena >= during.arena)
""")


def probe_env(**settings: str) -> dict[str, str]:
    """This process's environment without the settings the probes test, plus SETTINGS: a Dask
    Nanny started earlier in the test session sets MALLOC_TRIM_THRESHOLD_ in this process's
    os.environ for its workers (distributed.nanny.pre-spawn-environ), which every child inherits."""
    ours = {memory.NUMPY_HUGEPAGE, memory.ARROW_POOL, "GLIBC_TUNABLES", *memory.GLIBC_VARIABLES}
    return {**{k: v for k, v in os.environ.items() if k not in ours}, **settings}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
@pytest.mark.parametrize("order", ["imported first", "imported after"])
def test_freed_memory_is_kept_for_the_next_arrays(order: str) -> None:
    out = subprocess.run([sys.executable, "-c", PROBE, order], capture_output=True, text=True,
                         check=True, env=probe_env()).stdout.splitlines()
    if order == "imported first":  # the libraries' defaults, which the settings change
        assert out.pop(0) in ("before True jemalloc", "before True mimalloc")
    assert out == [
        "applied glibc heap; numpy without huge pages; arrow system pool",
        "after False system",
        "mapped apart 0 on the heap True heap kept after free True",
    ]


@pytest.mark.parametrize(("args", "kept"), [
    (["run", "--project", "shop"], True),
    (["--version"], True),
    ([], True),  # cvm alone: its help (and shell completion, which passes no arguments)
    (["run", "--engine"], True),  # an option missing its value: Typer says so
    (["plan", "--engine", "local"], True),
    (["serve", "--run", "output"], False),  # long-running: its memory shrinks after a reload
    (["run", "--engine", "dask"], False),  # dask's workers measure memory to decide spilling
    (["score", "--engine=dask"], False),
])
def test_which_commands_keep_freed_memory(args: list[str], kept: bool) -> None:
    assert memory.applies_to(args) is kept


def test_the_cvm_command_applies_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def kept() -> tuple[str, ...]:
        calls.append("kept")
        return ()

    monkeypatch.setattr(memory, "keep_freed_memory", kept)
    for argv in (["cvm", "--version"], ["cvm", "serve", "--help"]):
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit):
            cli.main()
    assert calls == ["kept"]  # for --version, not for serve


def test_a_variable_the_user_set_is_kept() -> None:
    env = probe_env(**{memory.NUMPY_HUGEPAGE: "1", memory.ARROW_POOL: "jemalloc"})
    probe = ("from engine.memory import keep_freed_memory; print(keep_freed_memory()); "
             "import numpy, pyarrow; print(numpy._core.multiarray._get_madvise_hugepage() "
             "if hasattr(numpy, '_core') else numpy.core.multiarray._get_madvise_hugepage(), "
             "pyarrow.default_memory_pool().backend_name)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=env).stdout.splitlines()
    assert out == ["('glibc heap',)", "True jemalloc"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
@pytest.mark.parametrize("setting", [{"MALLOC_MMAP_MAX_": "65536"},
                                     {"MALLOC_TRIM_THRESHOLD_": "0"},
                                     {"MALLOC_TOP_PAD_": "0"},
                                     {"GLIBC_TUNABLES": "glibc.malloc.mmap_max=65536"}])
def test_glibc_settings_the_user_made_are_kept(setting: dict[str, str]) -> None:
    """The user's own tuning of glibc's allocator wins: nothing is changed (numpy's and Arrow's
    settings are worth making only with the heap kept)."""
    out = subprocess.run([sys.executable, "-c", PROBE, "imported after"], capture_output=True,
                         text=True, check=True, env=probe_env(**setting)).stdout.splitlines()
    assert out[0] == "applied "
