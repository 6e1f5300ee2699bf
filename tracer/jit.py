"""Numba compilation flags, defined once for every kernel in ``tracer``.

Kernels import :data:`JIT` (serial) or :data:`JIT_PARALLEL` (``prange``
drivers) and never read configuration at run time: numba freezes globals
into its on-disk cache, so tunables are passed as arguments instead.

Examples
--------
>>> from tracer.jit import JIT, JIT_PARALLEL
>>> JIT["cache"], JIT_PARALLEL["parallel"]
(True, True)

In a module (numba cannot cache functions defined at a prompt)::

    @njit(**JIT)
    def twice(x):
        return 2 * x
"""

import sys

__all__ = ["JIT", "JIT_PARALLEL", "JIT_MIN_ROWS", "jit_pays"]

#: Serial kernels for ``numba.njit`` (which implies nopython mode): cached on
#: disk, GIL released so callers may run them from threads.
JIT = dict(cache=True, nogil=True)

#: Parallel drivers (``numba.prange``); same guarantees as :data:`JIT`.
JIT_PARALLEL = dict(JIT, parallel=True)

#: Inputs shorter than this go to the numpy twins of the loaders' kernels,
#: unless numba is loaded already: importing and starting numba costs about
#: 0.5 s once per process, which the kernels save back on a file of roughly
#: a million rows (0.4-0.5 us a row), not on a smaller one.
JIT_MIN_ROWS = 500_000


def jit_pays(n):
    """Whether a loader kernel is worth calling on ``n`` rows in this process.

    >>> jit_pays(JIT_MIN_ROWS)
    True
    """
    return n >= JIT_MIN_ROWS or "numba" in sys.modules
