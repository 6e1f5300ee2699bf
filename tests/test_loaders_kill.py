"""A load killed with SIGKILL inside its append leaves the store exactly as
before; running the same load again completes it (subprocess test)."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from loaders import load_files
from tracer.duck import DuckStore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from loaders import load_files
from tracer.duck import DuckStore

store = DuckStore({store!r})
store.append_chunk_rows = 2000

def progress(stage, done, total):
    print("progress", stage, done, total, flush=True)
    if stage == "append" and 0 < done < total:
        print("inside", flush=True)
        time.sleep(120)

load_files(store, "venues", [{path!r}], progress=progress)
print("finished", flush=True)
"""


def venues_csv(path, n, seed):
    """A venues file of ``n`` distinct scans by phone-identified people."""
    rng = np.random.default_rng(seed)
    phone = np.char.add("138", rng.integers(10_000_000, 99_999_999, n // 5 + 1).astype(str))[rng.integers(0, n // 5 + 1, n)]
    scan = np.datetime64("2020-02-01T00:00") + np.arange(n).astype("timedelta64[m]")
    pd.DataFrame({"手机号码": phone, "场所编码": np.char.add("V", rng.integers(0, 50, n).astype(str)),
                  "扫码时间": pd.Series(scan.astype(str)).str.replace("T", " ")}).to_csv(path, index=False)


def snapshot(store):
    return (store.version, len(store.presences()), len(store.persons()), len(store.places()), len(store.aliases()))


def test_sigkill_mid_load_leaves_store_unchanged_and_rerun_completes(tmp_path):
    db = str(tmp_path / "t.duckdb")
    small, big = str(tmp_path / "small.csv"), str(tmp_path / "big.csv")
    venues_csv(small, 50, seed=1)
    venues_csv(big, 20_000, seed=2)
    with DuckStore(db) as store:
        load_files(store, "venues", [small])
        before = snapshot(store)
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(root=ROOT, store=db, path=big)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    seen = []
    deadline = time.monotonic() + 120
    try:
        for line in child.stdout:
            seen.append(line.strip())
            if line.strip() == "inside" or time.monotonic() > deadline:
                break
        assert seen and seen[-1] == "inside", (seen, child.stderr.read() if child.poll() is not None else "")
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=60)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    with DuckStore(db) as store:
        assert snapshot(store) == before
        report = load_files(store, "venues", [big])
        assert report.read == report.loaded + report.duplicates + report.rejected == 20_000
        assert report.loaded == 20_000 and report.rejected == 0
        assert store.version == before[0] + 1
        assert len(store.presences()) == before[1] + report.presences_loaded
        again = load_files(store, "venues", [big])
        assert again.loaded == 0 and again.duplicates == 20_000
