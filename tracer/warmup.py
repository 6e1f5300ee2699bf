"""Compile (and cache) every numba kernel a trace uses, on tiny data.

numba compiles a kernel on its first call and keeps the machine code in its
on-disk cache (``cache=True``). A first trace on a fresh install therefore
spends most of its time compiling; ``tracer demo`` runs :func:`warm_up` in a
second process while it generates and loads data, so the trace then loads
the compiled kernels from the cache instead.

>>> warm_up(rows=200)  # doctest: +SKIP
"""

import numpy as np
import pandas as pd

__all__ = ["warm_up"]


def warm_up(rows=None):
    """Run index build, co-presence search, scoring and aggregation once,
    on both their serial and parallel paths (sizes above the thresholds)."""
    from .index import PARALLEL_MIN
    from .kernels import PARALLEL_SOURCES
    from .tracing import trace

    n = int(rows or PARALLEL_MIN + 1)
    rng = np.random.default_rng(0)
    n_people = max(PARALLEL_SOURCES * 2, n // 50)
    start = 1_580_000_000 + rng.integers(0, 5 * 86_400, n)
    frame = pd.DataFrame(
        {
            "person": rng.integers(0, n_people, n).astype(str),
            "place": np.char.add("venue:", rng.integers(0, max(1, n // 20), n).astype(str)),
            "kind": "venue",
            "start": start,
            "end": start + rng.integers(0, 4 * 3600, n),
        }
    )
    cases = pd.DataFrame({"person": np.unique(frame["person"])[: PARALLEL_SOURCES * 2], "onset": "2020-01-28"})
    trace(frame, cases, hops=2)  # the frame store builds an index: serial and parallel build paths
    small = frame.head(100)
    trace(small, cases[cases["person"].isin(small["person"])].head(3))
    _aggregate_in_parallel(rng)


def _aggregate_in_parallel(rng):
    """The per-contact aggregation shares its work between threads only
    from ``PARALLEL_EVENTS`` events, more than the traces above find."""
    from .aggregate import PARALLEL_EVENTS, aggregate_contacts

    n = PARALLEL_EVENTS
    zeros = np.zeros(n, np.int64)
    aggregate_contacts(rng.integers(1, 1_000, n), zeros, zeros, np.full(n, -0.01), np.ones(n, np.int8),
                       np.ones(n, np.int64), zeros, np.full(n, 60, np.int64), n_persons=1_000)  # fmt: skip


if __name__ == "__main__":  # pragma: no cover
    warm_up()
