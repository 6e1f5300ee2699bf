"""Helper for the interrupted-push test: push a DuckStore into Neo4j, slowly.

Run as ``python tests/neo4j_push_child.py DUCKSTORE``; prints ``progress
DONE TOTAL`` after each batch of 500 presences so the test can kill it
mid-push.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from queries.neo4j_store import Neo4jStore  # noqa: E402
from queries.push import push  # noqa: E402
from tracer.duck import DuckStore  # noqa: E402


def main(path):
    with DuckStore(path, read_only=True) as duck, Neo4jStore() as neo:
        push(duck, neo, batch_rows=500, progress=lambda done, total: print("progress", done, total, flush=True))
    print("finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
