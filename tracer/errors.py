"""The tracer exception tree.

Every error a user can cause is a :class:`TracerError` whose message says what
went wrong, where, and what to do. ``cli.py`` maps these to one-line messages
and exit codes in one place; the library never prints.
"""

__all__ = [
    "TracerError",
    "ValidationError",
    "LoadError",
    "StoreError",
    "StoreLocked",
    "UnknownPerson",
    "Neo4jUnavailable",
]


class TracerError(Exception):
    """Base class of every error tracer raises on purpose.

    ``hint`` (optional) is a short sentence telling the user what to do next.
    ``keys`` (optional) are the person keys the message or hint quotes, so
    that the CLI can mask them whatever their form (a canonical input may
    key people by any string, a name included), not only by pattern.
    """

    exit_code = 1

    def __init__(self, message, hint=None, keys=()):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.keys = tuple(str(k) for k in keys)

    def __str__(self):
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class ValidationError(TracerError):
    """Input data break the canonical presence contract (dtype, range, kind)."""


class LoadError(TracerError):
    """A raw source file cannot be read at all (missing, empty, undecodable)."""


class StoreError(TracerError):
    """The store cannot be opened, read or written."""


class StoreLocked(StoreError):
    """Another process holds the store's write lock."""


class UnknownPerson(TracerError):
    """A person key (for example a case) is not in the store."""


class Neo4jUnavailable(TracerError):
    """The Neo4j server cannot be reached or refuses the credentials."""
