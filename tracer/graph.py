"""Trace results as a networkx graph, for analytics and export."""

import networkx as nx

__all__ = ["result_to_networkx"]


def result_to_networkx(result):
    """Build a ``networkx.MultiDiGraph`` from a :class:`~tracer.tracing.TraceResult`.

    Nodes: every case (``type="case"``), every contact (``type="contact"``
    with ``risk``, ``hop``, ``rule``) and every place in the evidence
    (``type="place"`` with ``kind``). Edges: one ``exposed_to`` edge per
    (source, contact) pair with combined ``risk``, ``events`` and
    ``overlap_s``; and ``present`` edges from both people of each event to
    its place, carrying the event's start, end and ``p_event``.

    Examples
    --------
    >>> import pandas as pd
    >>> from tracer import trace
    >>> frame = pd.DataFrame({"person": ["a", "b"], "place": ["venue:1"] * 2,
    ...     "kind": "venue", "start": ["2020-02-01 10:00"] * 2, "end": ["2020-02-01 11:00"] * 2})
    >>> g = trace(frame, [{"person": "a", "onset": "2020-02-02"}], linger=False).to_networkx()
    >>> sorted(g.nodes(data="type"))
    [('a', 'case'), ('b', 'contact'), ('venue:1', 'place')]
    """
    g = nx.MultiDiGraph()
    for person in result.cases["person"]:
        g.add_node(person, type="case")
    for row in result.contacts.itertuples(index=False):
        if row.person not in g or g.nodes[row.person].get("type") != "case":
            g.add_node(row.person, type="contact", risk=float(row.risk), hop=int(row.hop), rule=row.rule)
    ev = result.events
    if ev.empty:
        return g
    for place, kind in ev[["place", "kind"]].drop_duplicates().itertuples(index=False):
        g.add_node(place, type="place", kind=kind)
    pairs = ev.groupby(["case", "contact"], sort=True).agg(
        p=("p_event", lambda p: 1.0 - (1.0 - p).prod()),
        events=("p_event", "size"),
        overlap_s=("overlap_s", "sum"),
        hop=("hop", "min"),
    )
    for (case, contact), row in pairs.iterrows():
        g.add_edge(
            case, contact, type="exposed_to", risk=float(row.p), events=int(row.events),
            overlap_s=int(row.overlap_s), hop=int(row.hop),
        )  # fmt: skip
    for row in ev.itertuples(index=False):
        attrs = dict(type="present", start=row.start.isoformat(), end=row.end.isoformat(), p_event=float(row.p_event))
        g.add_edge(row.case, row.place, **attrs)
        g.add_edge(row.contact, row.place, **attrs)
    return g
