"""The evidence behind one contact's risk.

For a hop-1 contact: every co-presence with the case. For a hop >= 2
contact: the chain from the A-class case through the intermediate contacts,
with the co-presences of every link.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import TracerError, UnknownPerson

__all__ = ["explain", "explain_saved", "Explanation", "resolve_person", "with_evidence"]

EVIDENCE_COLUMNS = [
    "link", "source", "contact", "place", "kind", "start", "end",
    "overlap_min", "together_min", "seat_distance", "rule", "p_event",
]  # fmt: skip


@dataclass
class Explanation:
    """What :func:`explain` returns.

    Attributes
    ----------
    contact : the contact's row of the ranked list (a Series).
    chain : person keys from the A-class case to the contact.
    evidence : one row per co-presence along the chain
        (:data:`EVIDENCE_COLUMNS`); ``link`` numbers the chain's links from 1.
    """

    contact: pd.Series
    chain: list
    evidence: pd.DataFrame


def resolve_person(spec, keys, what="person", allow_rank=True, lookup=None):
    """Find one key from ``spec``: an exact key, the key ``lookup(spec)``
    gives (a store's person key of an alias such as a phone, or of a phone
    key merged into its holder), a rank ``#N`` (when ``keys`` is in rank
    order), or a masked key as printed (``530102********1234``) that
    matches exactly one key.

    >>> resolve_person("#2", ["a", "b"])
    'b'
    """
    from .privacy import mask_key

    keys = pd.Series(list(keys), dtype=object)
    spec = str(spec).strip()
    if spec in set(keys):
        return spec
    other = lookup(spec) if lookup is not None and not spec.startswith("#") and "*" not in spec else None
    if other is not None and other in set(keys):
        return other
    if allow_rank and spec.startswith("#") and spec[1:].isdigit():
        n = int(spec[1:])
        if 1 <= n <= len(keys):
            return keys.iat[n - 1]
        raise UnknownPerson(f"there is no {what} ranked {n} (the run lists {len(keys)})")
    by_rank = "give the rank as #N" if allow_rank else f"give the {what}'s key"
    if "*" in spec:
        hits = keys[(mask_key(keys) == spec).to_numpy()]
        if len(hits) == 1:
            return hits.iat[0]
        if len(hits) > 1:
            raise UnknownPerson(
                f"the masked {what} {spec} matches {len(hits)} people",
                hint=f"{by_rank}, or the full key with --show-pii output",
            )
    raise UnknownPerson(f"{what} {spec!r} is not in this trace run",
                        hint=f"check the key, or {by_rank}" if allow_rank else
                        f"{by_rank} as loaded, or masked as printed in the source_case column",
                        keys=[] if spec.startswith("#") else [spec])  # a rank is no one's key


def explain(run, case, contact, roots=None, lookup=None):
    """Explain ``contact``'s risk with respect to the A-class ``case``.

    ``run`` is a :class:`~tracer.tracing.TraceResult` or a saved run (both
    have ``.contacts`` and ``.events``). ``case`` and ``contact`` are person
    keys, ``#rank`` (contact) or masked keys as printed. ``roots``, the
    run's A-class cases, defaults to the cases of its hop-1 events and
    contacts (pass it when ``run.events`` holds only some events).
    ``lookup`` (optional) maps another key of a person, such as an alias,
    to its stored key (see :func:`resolve_person`).

    Examples
    --------
    >>> from tracer import trace
    >>> frame = pd.DataFrame({"person": ["a", "b"], "place": ["venue:1"] * 2,
    ...     "kind": "venue", "start": ["2020-02-01 10:00"] * 2, "end": ["2020-02-01 11:00"] * 2})
    >>> ex = explain(trace(frame, [{"person": "a", "onset": "2020-02-02"}], linger=False), "a", "#1")
    >>> ex.chain, ex.evidence[["link", "place", "overlap_min"]].to_dict("records")
    (['a', 'b'], [{'link': 1, 'place': 'venue:1', 'overlap_min': 60.0}])
    """
    if roots is None and _lacks_events(run):  # with roots, the caller chose the events (maybe none)
        raise TracerError(
            "this trace run was saved without its co-presence events, so there is no evidence to show",
            hint="pass the run through with_evidence(store, run) first, which traces its cases again",
        )
    contacts = run.contacts.sort_values("rank")
    person = resolve_person(contact, contacts["person"], "contact", lookup=lookup)
    row = contacts.set_index("person").loc[person]
    if roots is None:
        roots = set(contacts["source_case"]) | set(run.events.loc[run.events["hop"] == 1, "case"])
        cases = getattr(run, "cases", None)
        if cases is not None and "person" in getattr(cases, "columns", ()):
            roots |= set(cases["person"].astype(str))  # a case without contacts is still a case of the run
    case_key = resolve_person(case, sorted(roots), "case", allow_rank=False, lookup=lookup)
    if row["source_case"] != case_key and not _touches(run.events, case_key, person):
        raise UnknownPerson(
            f"{person} was not exposed by case {case_key} in this run",
            hint=f"its source case is {row['source_case']}",
            keys=[person, case_key, row["source_case"]],
        )
    chain = _chain(contacts, person, case_key)
    parts = []
    for link, (src, dst) in enumerate(zip(chain[:-1], chain[1:]), start=1):
        ev = run.events[(run.events["case"] == src) & (run.events["contact"] == dst)]
        parts.append(ev.assign(link=link, source=src))
    evidence = pd.concat(parts, ignore_index=True) if parts else run.events.iloc[:0]
    evidence = evidence.assign(
        overlap_min=evidence["overlap_s"] / 60.0,
        together_min=evidence.get("together_s", evidence["overlap_s"]) / 60.0,
    )
    return Explanation(contact=row, chain=chain, evidence=evidence[EVIDENCE_COLUMNS].reset_index(drop=True))


def explain_saved(store, run_id, case, contact):
    """:func:`explain` of the saved run ``run_id`` (the latest when None):
    ``(run, Explanation)``.

    A store that can read some of a run's events (``load_run_events``, the
    embedded store) gives only the events along the chain shown: a
    city-wide run holds millions. Otherwise, or for a run saved without
    events or without its case list, the whole run is read and passed
    through :func:`with_evidence`.
    """
    import dataclasses

    lookup = _store_lookup(store)
    if hasattr(store, "load_run_events"):
        run = store.load_run(run_id, events=False)
        cases = getattr(run, "cases", None)
        if cases is not None and len(run.contacts):
            contacts = run.contacts.sort_values("rank")
            person = resolve_person(contact, contacts["person"], "contact", lookup=lookup)
            roots = set(contacts["source_case"]) | set(cases["person"].astype(str))
            case_key = resolve_person(case, sorted(roots), "case", allow_rank=False, lookup=lookup)
            chain = _chain(contacts, person, case_key)
            pairs = sorted(set(zip(chain[:-1], chain[1:])) | {(case_key, person)})
            events = store.load_run_events(run.id, pairs)
            if events is not None:
                run = dataclasses.replace(run, events=events)
                return run, explain(run, case_key, person, roots=roots)
        run_id = run.id
    run = with_evidence(store, store.load_run(run_id))
    return run, explain(run, case, contact, lookup=lookup)


def _store_lookup(store):
    """``key -> stored person key`` through ``store.person_codes`` (aliases,
    merged phone keys), or None where the store does not know the key."""

    def lookup(key):
        try:
            return str(store.person_keys(store.person_codes([key]))[0])
        except TracerError:
            return None

    return lookup


def _lacks_events(run):
    return run.events is None or (len(run.events) == 0 and len(run.contacts))


def with_evidence(store, run):
    """``run`` with its co-presence events, traced again if it was saved without them.

    Trace runs saved in Neo4j keep their ranked contacts (``EXPOSED_TO``
    edges) but not every event behind them. Such a run is traced again on
    ``store`` from its saved case list (infectious windows) and parameters;
    the result must reproduce the saved contacts (same persons, hops and
    risks), else the store has changed since and the evidence cannot be
    rebuilt honestly: :class:`~tracer.errors.TracerError`.
    """
    import dataclasses

    from .config import ModelConfig
    from .schema import DEFAULT_TZ
    from .timeutil import from_epoch_s
    from .tracing import trace

    if not _lacks_events(run):
        return run
    cases = getattr(run, "cases", None)
    params = dict(run.params or {})
    if cases is None or not len(cases) or "model" not in params:
        raise TracerError(
            f"trace run {run.id} was saved without its co-presence events or its case list,"
            " so there is no evidence to show",
            hint="trace the cases again and explain the new run",
        )
    tz = params.get("tz") or DEFAULT_TZ
    ref = from_epoch_s(cases["reference_s"].to_numpy(np.int64), tz)
    asym = cases["asymptomatic"].to_numpy(bool)
    inputs = pd.DataFrame({
        "person": cases["person"].astype(str).to_numpy(object),
        "onset": pd.Series(ref).where(~asym),
        "sampled": pd.Series(ref).where(asym),
        "isolated": from_epoch_s(cases["window_end_s"].to_numpy(np.int64), tz),
    })  # fmt: skip
    again = trace(store, inputs, hops=int(params.get("hops", 1)), min_risk=float(params.get("min_risk", 0.0)),
                  linger=bool(params.get("linger", True)), pre_onset_days=params.get("pre_onset_days"),
                  config=ModelConfig.from_dict(params["model"]), tz=tz)  # fmt: skip
    changed = _differences(run.contacts, again.contacts)
    if changed:
        raise TracerError(
            f"the store has changed since trace run {run.id} was saved: tracing its cases again gives"
            f" {changed} contact(s) that differ, so its evidence cannot be rebuilt",
            hint="trace the cases again and explain the new run",
        )
    return dataclasses.replace(run, events=again.events)


def _differences(saved, again):
    """Contacts whose presence, hop or risk differ between two ranked lists."""
    a = saved.set_index(saved["person"].astype(str))[["hop", "risk"]]
    b = again.set_index(again["person"].astype(str))[["hop", "risk"]]
    both = a.index.intersection(b.index)
    hop_or_risk = (a.loc[both, "hop"].to_numpy() != b.loc[both, "hop"].to_numpy()) | ~np.isclose(
        a.loc[both, "risk"].to_numpy(float), b.loc[both, "risk"].to_numpy(float), rtol=1e-9, atol=0.0
    )
    return int(len(a.index.symmetric_difference(b.index)) + hop_or_risk.sum())


def _touches(events, case, person):
    return bool(((events["case"] == case) & (events["contact"] == person)).any())


def _chain(contacts, person, case):
    """Follow ``via`` back from the contact to the case."""
    by_person = contacts.set_index("person")
    chain = [person]
    current = person
    for _ in range(len(by_person)):
        row = by_person.loc[current]
        hop = int(row["hop"])
        if hop <= 1 or "via" not in by_person.columns or _missing(row["via"]):
            break
        current = row["via"]
        chain.append(current)
        if current not in by_person.index:
            break
    if chain[-1] != case:
        chain.append(case)
    return chain[::-1]


def _missing(value):
    return value is None or (isinstance(value, float) and np.isnan(value))
