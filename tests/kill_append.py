"""Helper for the SIGKILL test: append a big batch and stall inside the transaction.

Run as ``python tests/kill_append.py STORE N``. It appends
:func:`make_batch` ``(N)`` to the store in chunks, prints ``progress DONE
TOTAL`` for every progress call and, once half the rows are inside the open
transaction, prints ``inside`` and sleeps so that the test can kill it there.
"""

import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tracer.presence import Batch, fingerprint  # noqa: E402


def make_batch(n, seed=0, n_persons=1000, n_places=200, source="kill"):
    """A deterministic batch of ``n`` venue presences (distinct records)."""
    rng = np.random.default_rng(seed)
    persons = np.array([f"p{i:05d}" for i in range(n_persons)], dtype=object)
    places = np.array([f"venue:{i}" for i in range(n_places)], dtype=object)
    start = rng.integers(0, 30 * 86400, n)
    frame = pd.DataFrame(
        {
            "person_key": persons[rng.integers(0, n_persons, n)],
            "place_key": places[rng.integers(0, n_places, n)],
            "start": start,
            "end": start + rng.integers(0, 7200, n),
            "kind": np.zeros(n, np.int8),
            "section": np.full(n, -1, np.int16),
            "row": np.full(n, -1, np.int16),
            "col": np.arange(n, dtype=np.int64) % 30000,  # keeps records distinct
            "flags": np.zeros(n, np.uint8),
        }
    )
    frame["col"] = frame["col"].astype(np.int16)
    frame["record"] = fingerprint(
        frame.person_key, frame.place_key, frame.start, frame["end"], frame.section, frame.row, frame.col
    )
    return Batch(frame, source=source)


def main(path, n):
    from tracer.duck import DuckStore

    batch = make_batch(n, seed=1, source="big")
    store = DuckStore(path)
    store.append_chunk_rows = max(n // 10, 1)

    def progress(done, total):
        print(f"progress {done} {total}", flush=True)
        if total // 2 <= done < total:
            print("inside", flush=True)
            time.sleep(120)

    store.append(batch, progress=progress)
    print("finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
