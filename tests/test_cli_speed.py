"""`tallyman --help` and `tallyman central --help` must answer at once (target: 150 ms).

Measured in a fresh interpreter: the time from importing the CLI to the help being written,
median of several runs. Interpreter start is left out (it is the same for every Python program
and, with this venv's .pth files, a third of a second by itself). The bound is generous, a
machine shared with other work must not make this flaky; what it catches is NumPy's compiler,
Flask, SciPy or matplotlib creeping into the import path, which costs seconds, not milliseconds.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

import pytest

RUNS = 5
BOUND_S = 1.0
HEAVY = ("numba", "flask", "scipy", "matplotlib")

PROBE = """
import contextlib, io, json, sys, time
t0 = time.perf_counter()
from tallyman.launch import cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    rc = cli.main(sys.argv[1:])
seconds = time.perf_counter() - t0
heavy = [m for m in {heavy!r} if m in sys.modules]
print(json.dumps({{"rc": rc, "seconds": seconds, "heavy": heavy, "out": out.getvalue()}}))
"""


def probe(*argv: str) -> dict:
    code = PROBE.format(heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [("--help",), ("central", "--help")], ids=" ".join)
def test_help_is_fast_and_light(argv):
    runs = [probe(*argv) for _ in range(RUNS)]
    first = runs[0]
    assert first["rc"] == 0 and "Usage:" in first["out"], first
    assert first["heavy"] == [], f"tallyman {' '.join(argv)} imports {first['heavy']}"
    median = statistics.median(r["seconds"] for r in runs)
    assert median < BOUND_S, f"tallyman {' '.join(argv)}: {median * 1000:.0f} ms to import and help"
