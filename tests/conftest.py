import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The kernels take their parallel paths only with more than one numba
# thread; on a one-core machine numba would start one, and the tests of
# those paths would quietly run the serial ones. Two threads (read when
# numba is imported) keep both paths under test everywhere.
_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
if _CPUS < 2:
    os.environ.setdefault("NUMBA_NUM_THREADS", "2")
