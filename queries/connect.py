"""Opening a Neo4j driver, and turning driver failures into clear words.

Every failure a user can cause (server not running, wrong password, unknown
database, server gone mid-write) becomes :class:`tracer.errors.Neo4jUnavailable`
within a few seconds, with a message naming the URI and what to do. The
password never appears in a message.

Examples
--------
>>> settings("bolt://127.0.0.1:7687", None, None, None).user
'neo4j'
"""

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass

from tracer.errors import Neo4jUnavailable, StoreError

__all__ = ["Settings", "settings", "open_driver", "translate_errors", "DEFAULT_URI", "DEFAULT_PASSWORD"]

DEFAULT_URI = "bolt://127.0.0.1:7687"
#: The development password ``scripts/neo4j`` sets when NEO4J_PASSWORD is unset.
DEFAULT_PASSWORD = "tracer-dev-password"
#: Seconds to wait for a TCP connection / for a retried transaction.
CONNECT_TIMEOUT_S = 3.0
RETRY_TIME_S = 5.0

_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
_START_HINT = "start it with `bash scripts/neo4j start`, or point --neo4j-uri / NEO4J_URI at a running server"
_RESUME_HINT = "; an interrupted load or push completes when run again"


@dataclass(frozen=True)
class Settings:
    """Where and as whom to connect (``password`` is never shown in repr)."""

    uri: str
    user: str
    password: str
    database: str

    def __repr__(self):
        return f"Settings(uri={self.uri!r}, user={self.user!r}, database={self.database!r})"

    @property
    def shown_uri(self):
        """The URI without any ``user:password@`` part."""
        return re.sub(r"//[^@/]*@", "//", self.uri)


def settings(uri=None, user=None, password=None, database=None):
    """Fill unset arguments from NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD,
    NEO4J_DATABASE, then from the development defaults."""
    env = os.environ
    return Settings(
        uri=uri or env.get("NEO4J_URI") or DEFAULT_URI,
        user=user or env.get("NEO4J_USER") or "neo4j",
        password=password if password is not None else env.get("NEO4J_PASSWORD") or DEFAULT_PASSWORD,
        database=database or env.get("NEO4J_DATABASE") or "neo4j",
    )


def open_driver(conf):
    """A connected ``neo4j.Driver`` for ``conf``, checked against its database.

    Raises :class:`~tracer.errors.Neo4jUnavailable` within a few seconds when
    the server is not reachable, refuses the credentials, or lacks the database.
    """
    import neo4j

    scheme = conf.uri.split("://", 1)[0].lower() if "://" in conf.uri else ""
    if scheme not in _SCHEMES:
        raise Neo4jUnavailable(f"{conf.shown_uri!r} is not a Neo4j URI", hint="use bolt://HOST:7687 or neo4j://HOST:7687")
    try:
        driver = neo4j.GraphDatabase.driver(
            conf.uri,
            auth=(conf.user, conf.password),
            connection_timeout=CONNECT_TIMEOUT_S,
            connection_acquisition_timeout=2 * CONNECT_TIMEOUT_S,
            max_transaction_retry_time=RETRY_TIME_S,
            keep_alive=True,
        )
    except (ValueError, neo4j.exceptions.ConfigurationError) as exc:
        raise Neo4jUnavailable(
            f"{conf.shown_uri!r} is not a Neo4j URI ({exc})", hint="use bolt://HOST:7687 or neo4j://HOST:7687"
        ) from None
    try:
        with translate_errors(conf):
            driver.verify_connectivity()
            driver.execute_query("RETURN 1", database_=conf.database)
    except BaseException:
        driver.close()
        raise
    return driver


@contextmanager
def translate_errors(conf, doing=None):
    """Map driver exceptions raised in the block to tracer errors.

    ``doing`` names the work under way (``"writing to"``, ``"reading
    from"``…); None means the connection is being opened, so a refused
    connection reads as a server that is not running."""
    import neo4j.exceptions as nx

    where = f"Neo4j at {conf.shown_uri}"
    try:
        yield
    except nx.AuthError:
        raise Neo4jUnavailable(
            f"{where} refused user {conf.user!r}: wrong user name or password",
            hint="set NEO4J_USER / NEO4J_PASSWORD to the server's credentials "
            "(scripts/neo4j uses NEO4J_PASSWORD, else the development default)",
        ) from None
    except nx.ClientError as exc:
        if "DatabaseNotFound" in (exc.code or ""):
            raise Neo4jUnavailable(
                f"{where} has no database {conf.database!r}",
                hint="Neo4j Community has one user database, 'neo4j'; check NEO4J_DATABASE",
            ) from None
        raise StoreError(f"{where} refused a query: {exc.message}", hint="this is a bug in tracer; please report it") from None
    except (nx.ServiceUnavailable, nx.SessionExpired, nx.IncompleteCommit, nx.TransientError, OSError) as exc:
        detail = (getattr(exc, "message", None) or str(exc) or type(exc).__name__).splitlines()[0]
        refused = detail.startswith(("Couldn't connect", "Unable to retrieve routing")) or "refused" in detail.lower()
        if refused and doing is None:  # opening: nothing was under way
            raise Neo4jUnavailable(
                f"Neo4j does not answer at {conf.shown_uri}: the server is not running, or listens elsewhere",
                hint=_START_HINT,
            ) from None
        # only an interrupted write leaves work to complete
        hint = _START_HINT if (doing or "").startswith("reading") else _START_HINT + _RESUME_HINT
        if refused:
            raise Neo4jUnavailable(f"{where} stopped answering while {doing} it", hint=hint) from None
        raise Neo4jUnavailable(
            f"lost the connection to {where} while {doing or 'connecting to'} it ({detail})", hint=hint
        ) from None
    except nx.DriverError as exc:
        raise Neo4jUnavailable(f"{where}: {exc}", hint=_START_HINT) from None
