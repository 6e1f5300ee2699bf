"""The HTML report: built from a real trace, opened in headless Chromium.

Expected counts come from the trace result itself (an independent walk of
the contact chains), never from the report's own data.
"""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.browser import dump_dom, file_url, parse_dom, png_variety, screenshot
from tracer.duck import DuckStore
from tracer.privacy import mask_key
from tracer.report import build_report, case_presences, script_json
from tracer.synth import generate_city
from tracer.tracing import TraceResult, trace

ARTIFACTS = Path(__file__).parent / "artifacts"
GRAPH_TOP = 60


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """A 2-hop trace of a small synthetic city, from a DuckDB store."""
    tmp = tmp_path_factory.mktemp("report")
    city = generate_city(n_people=600, days=5, seed=5)
    with DuckStore(tmp / "city.duckdb") as store:
        store.append(city.batch)
        result = trace(store, city.cases, hops=2)
        store.save_run(result)
        run = store.load_run()
        presences = case_presences(store, result.cases["person"])
        keys = pd.concat([result.contacts["person"], result.cases["person"]])
        persons = store.persons(keys)
    assert len(result.cases) >= 2 and result.contacts["hop"].max() == 2  # the test needs a real 2-hop graph
    return {"city": city, "result": result, "run": run, "presences": presences, "persons": persons, "tmp": tmp}


def expected_nodes(cases, contacts, graph_top):
    """Cases, the top contacts and every source on their chains back to a case."""
    keys = set(cases)
    by_key = contacts.set_index("person")
    todo = list(contacts["person"].head(graph_top))
    while todo:
        key = todo.pop()
        if key in keys:
            continue
        keys.add(key)
        row = by_key.loc[key]
        parent = row["via"] if row["hop"] > 1 and isinstance(row["via"], str) else row["source_case"]
        if parent in by_key.index:
            todo.append(parent)
    return keys


def row_cells(dom, row):
    """Texts of the cells of one table row."""
    start = dom.elements.index(row) + 1
    end = next((i for i in range(start, len(dom.elements)) if dom.elements[i].tag == "tr"), len(dom.elements))
    return [e.text for e in dom.elements[start:end] if e.tag in ("td", "th")]


def embedded_data(page):
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def test_report_draws_the_graph_in_chromium(traced):
    res = traced["result"]
    path = traced["tmp"] / "report.html"
    page = build_report(res, path=path, top=100, graph_top=GRAPH_TOP, presences=traced["presences"],
                        persons=traced["persons"])  # fmt: skip
    assert path.read_text(encoding="utf-8") == page
    dom = parse_dom(dump_dom(path))
    want = len(expected_nodes(res.cases["person"], res.contacts, GRAPH_TOP))
    assert want > len(res.cases) + 10
    assert len(dom.find_all("circle", cls="node")) == want
    body = dom.find("body")
    assert body.attrs["data-graph-nodes"] == str(want)
    assert body.attrs["data-ready"] == "1"
    hop_of = {str(h) for h in dom.find_all("circle", cls="node") for h in [h.attrs["data-hop"]]}
    assert hop_of == {"0", "1", "2"}
    assert len(dom.find_all("tr", cls="contact-row")) == min(100, len(res.contacts))
    assert len(dom.find_all(data_testid="timeline")) == len(res.cases)
    overlaps = len(dom.find_all(data_testid="timeline-overlap"))
    assert 0 < overlaps <= int((res.events["hop"] == 1).sum())
    png = screenshot(path, ARTIFACTS / "report.png", size=(1400, 1000))
    assert png_variety(png) > 40, "the screenshot looks blank"


def test_clicked_contact_shows_its_evidence(traced):
    res = traced["result"]
    path = traced["tmp"] / "evidence.html"
    build_report(res, path=path, graph_top=GRAPH_TOP, max_events=5)
    top = res.contacts.head(GRAPH_TOP)
    pick = top.loc[top["events"].idxmax()]
    assert pick["events"] > 1
    dom = parse_dom(dump_dom(file_url(path, f"rank={pick['rank']}")))
    assert dom.find(data_testid="evidence-title").text == mask_key(pd.Series([pick["person"]]))[0]
    rows = dom.find_all("tr", data_testid="evidence-row")
    mine = res.events[res.events["contact"] == pick["person"]]
    assert len(rows) == min(5, len(mine))
    places = {row_cells(dom, row)[1] for row in rows}
    assert places <= set(mine["place"])
    assert dom.find("body").attrs["data-selected"] != ""
    screenshot(file_url(path, f"rank={pick['rank']}"), ARTIFACTS / "report-evidence.png", size=(1400, 1400))


def test_nothing_personal_leaks_unless_asked(traced):
    res, city = traced["result"], traced["city"]
    keys = set(res.contacts["person"]) | set(res.cases["person"]) | set(res.events["case"]) | set(res.events["contact"])
    names = set(traced["persons"]["name"].dropna())
    phones = set(city.persons.loc[city.persons["key"].isin(keys), "phone"])
    page = build_report(res, presences=traced["presences"], persons=traced["persons"], top=10_000, graph_top=10_000)
    leaks = [k for k in keys | phones if k in page] + [n for n in names if len(n) > 1 and n in page]
    assert leaks == []
    assert mask_key(pd.Series([res.contacts["person"].iat[0]]))[0] in page
    shown = build_report(res, persons=traced["persons"], top=10_000, graph_top=10_000, show_pii=True)
    assert all(k in shown for k in res.contacts["person"])
    assert any(n in shown for n in names if len(n) > 1)


def test_summary_counts_match_the_trace(traced):
    res = traced["result"]
    dom = parse_dom(build_report(res))
    assert dom.find(data_testid="count-contacts").text.startswith(f"{len(res.contacts):,}")
    assert dom.find(data_testid="count-events").text.startswith(f"{len(res.events):,}")
    table = dom.find("table", data_testid="by-hop-rule")
    cells = [e.text for e in dom.elements[dom.elements.index(table):] if e.tag in ("td", "th")]
    want = res.contacts.groupby(["hop", "rule"]).size()
    for (hop, rule), n in want.items():
        rules = cells[1 : cells.index("all")]
        row = cells.index(str(hop), cells.index("all"))
        assert cells[row + 1 + rules.index(rule)] == str(n)


def test_saved_run_shows_its_saved_cases(traced):
    run = traced["run"]
    assert run.cases is not None
    page = build_report(run, graph_top=GRAPH_TOP)
    assert not any("no case list" in n.text for n in parse_dom(page).find_all(data_testid="note"))
    data = embedded_data(page)
    want = traced["result"].cases["person"]
    assert sorted(data["people"][i] for i in data["cases"]) == sorted(mask_key(want.astype(str)))


def test_saved_run_without_cases_derives_them(traced):
    import dataclasses

    run = dataclasses.replace(traced["run"], cases=None)  # saved by a tracer before run_cases
    page = build_report(run, graph_top=GRAPH_TOP)
    dom = parse_dom(page)
    assert any("no case list" in n.text for n in dom.find_all(data_testid="note"))
    derived = set(run.contacts["source_case"]) | set(run.events.loc[run.events["hop"] == 1, "case"])
    data = embedded_data(page)
    assert sorted(data["people"][i] for i in data["cases"]) == sorted(mask_key(pd.Series(sorted(derived))))
    want = expected_nodes(sorted(derived), run.contacts, GRAPH_TOP)
    assert len(data["graph"]["nodes"]) == len(want)
    assert run.id in dom.find("title").text


HOSTILE = [
    "</script><script>document.body.dataset.pwned='1'</script>",
    "<img src=x onerror=\"document.body.dataset.pwned='2'\">",
    "a\u2028b\"'&amp;<!--",
]


def test_hostile_keys_cannot_break_the_page(tmp_path):
    frame = pd.DataFrame({
        "person": HOSTILE + ["plain"],
        "place": ["venue:</script><b>x</b>"] * 3 + ["venue:</script><b>x</b>"],
        "kind": "venue",
        "start": ["2020-02-01 10:00", "2020-02-01 10:10", "2020-02-01 10:20", "2020-02-01 10:30"],
        "end": ["2020-02-01 11:00"] * 4,
    })  # fmt: skip
    res = trace(frame, [{"person": HOSTILE[0], "onset": "2020-02-02"}], hops=2)
    path = tmp_path / "hostile.html"
    page = build_report(res, path=path, title="</title><script>alert(1)</script>", show_pii=True)
    static = parse_dom(page)
    assert len(static.find_all("script")) == 2
    assert set(embedded_data(page)["people"]) == set(HOSTILE + ["plain"])
    dom = parse_dom(dump_dom(file_url(path, "rank=1")))
    body = dom.find("body")
    assert "data-pwned" not in body.attrs
    assert body.attrs["data-graph-nodes"] == "4"
    assert dom.find("img") is None and dom.find("b") is None
    assert HOSTILE[0] in [row.text for row in dom.find_all("td")]
    assert dom.find("title").text == "</title><script>alert(1)</script>"


FRAGMENTS = ["</script>", "</SCRIPT ", "<script>", "<!--", "-->", "</", "<", ">", "&", "\u2028", "\u2029", '"', "\\"]
risky_text = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=3), max_size=6).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(risky_text, st.lists(risky_text, max_size=3), max_size=4))
def test_script_json_round_trips_inside_html(payload):
    page = f'<p>x</p><script type="application/json" id="d">{script_json(payload)}</script><p>y</p>'
    dom = parse_dom(page)
    scripts = dom.find_all("script")
    assert len(scripts) == 1 and [e.tag for e in dom.elements] == ["p", "script", "p"]
    assert json.loads(scripts[0].text) == payload


def _large_result(n_contacts=5000, n_events=40_000, seed=0):
    """A synthetic result of the size of a big outbreak, for the size cap."""
    rng = np.random.default_rng(seed)
    cases = [f"53010219800101{i:04d}" for i in range(20)]
    people = [f"53010219900101{i:04d}" for i in range(n_contacts)]
    hop = np.where(np.arange(n_contacts) < n_contacts // 4, 1, 2)
    via = np.where(hop > 1, np.asarray(people, dtype=object)[rng.integers(0, n_contacts // 4, n_contacts)], None)
    t0 = pd.Timestamp("2020-01-10", tz="Asia/Shanghai")
    contacts = pd.DataFrame({
        "rank": np.arange(1, n_contacts + 1), "person": people, "risk": np.sort(rng.random(n_contacts))[::-1],
        "rule": rng.choice(["close", "general"], n_contacts), "hop": hop,
        "source_case": rng.choice(cases, n_contacts), "first_contact": t0, "overlap_min": 30.0,
        "events": 8, "via": via,
    })  # fmt: skip
    contact = rng.choice(people, n_events)
    start = t0 + pd.to_timedelta(rng.integers(0, 5 * 86400, n_events), unit="s")
    events = pd.DataFrame({
        "hop": 1, "case": rng.choice(cases, n_events), "contact": contact,
        "place": [f"venue:V{i:06d}" for i in rng.integers(0, 3000, n_events)], "kind": "venue",
        "start": start, "end": start + pd.Timedelta(hours=1), "overlap_s": 3600, "together_s": 3600,
        "seat_distance": np.nan, "rule": "close", "p_event": rng.random(n_events) / 10,
    })  # fmt: skip
    return TraceResult(contacts, events, pd.DataFrame({"person": cases}), {"hops": 2})


def test_a_large_trace_stays_under_two_megabytes():
    res = _large_result()
    page = build_report(res)
    assert len(page.encode("utf-8")) < 2_000_000
    dom = parse_dom(page)
    assert len(dom.find_all("tr", cls="contact-row")) == 200
    data = embedded_data(page)
    assert len(data["graph"]["nodes"]) == len(expected_nodes(res.cases["person"], res.contacts, 150))
    assert all(len(ev["e"]) <= 100 for ev in data["evidence"].values())


def test_no_contacts_still_draws_the_cases(tmp_path):
    frame = pd.DataFrame({"person": ["a"], "place": ["venue:1"], "kind": "venue",
                          "start": ["2020-02-01 10:00"], "end": ["2020-02-01 11:00"]})  # fmt: skip
    res = trace(frame, [{"person": "a", "onset": "2020-02-02"}])
    path = tmp_path / "empty.html"
    build_report(res, path=path)
    dom = parse_dom(dump_dom(path))
    assert dom.find("body").attrs["data-graph-nodes"] == "1"
    assert dom.find_all("tr", cls="contact-row") == []
