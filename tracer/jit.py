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

__all__ = ["JIT", "JIT_PARALLEL"]

#: Serial kernels for ``numba.njit`` (which implies nopython mode): cached on
#: disk, GIL released so callers may run them from threads.
JIT = dict(cache=True, nogil=True)

#: Parallel drivers (``numba.prange``); same guarantees as :data:`JIT`.
JIT_PARALLEL = dict(JIT, parallel=True)
