"""The named ``.cypher`` files beside this module.

Every query tracer sends to Neo4j lives in ``queries/<name>.cypher`` with a
header comment (purpose, parameters, an example) and only ``$parameters``;
the same text is what an investigator pastes into Neo4j Browser.

Examples
--------
>>> "trace_b_class" in names()
True
>>> load("hotspots").lstrip().startswith("// hotspots")
True
"""

from functools import lru_cache
from pathlib import Path

from tracer.errors import StoreError

__all__ = ["load", "names", "header", "QUERY_DIR"]

#: The directory holding the ``.cypher`` files.
QUERY_DIR = Path(__file__).resolve().parent


def names():
    """Sorted names of the available queries (file names without ``.cypher``)."""
    return sorted(p.stem for p in QUERY_DIR.glob("*.cypher"))


@lru_cache(maxsize=None)
def load(name):
    """The text of ``queries/<name>.cypher`` (header comment included).

    Raises :class:`~tracer.errors.StoreError` naming the known queries when
    there is no such file.
    """
    path = QUERY_DIR / f"{name}.cypher"
    if not path.is_file():
        raise StoreError(f"no Cypher query named {name!r} in {QUERY_DIR}", hint="known: " + ", ".join(names()))
    return path.read_text(encoding="utf-8")


def header(name):
    """The leading ``//`` comment block of a query, without the slashes."""
    lines = []
    for line in load(name).splitlines():
        if not line.startswith("//"):
            break
        lines.append(line[2:].removeprefix(" "))
    return "\n".join(lines)
