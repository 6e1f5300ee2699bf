"""The Neo4j Browser kit on the real server, in real headless Chromium.

A small synthetic city is pushed into Neo4j and traced; ``browser_labels``
adds the display labels; then Chromium, driven through the DevTools
protocol, opens Neo4j Browser, connects with its login form, loads
``queries/browser/tracer.grass`` with ``:style``, sets the run parameter and
runs ``contact_graph.cypher`` exactly as an investigator would (the steps of
``queries/browser/GUIDE.md``). The drawn graph is checked against the same
query through the Python driver and saved as
``tests/artifacts/browser-contact-graph.png``.

Needs the server (``bash scripts/neo4j start``), the ``chromium`` binary and
the ``websocket-client`` package. Like every Neo4j test module it empties the
database: do not run it next to another Neo4j test module.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import pandas as pd
import pytest
from browser import CHROMIUM_FLAGS, png_variety, require_chromium
from neo4j_fixtures import open_test_store, wipe

from tracer.schema import KINDS
from tracer.synth import generate_city
from tracer.tracing import trace

ROOT = Path(__file__).resolve().parent.parent
GRASS = ROOT / "queries" / "browser" / "tracer.grass"
GUIDE = ROOT / "queries" / "browser" / "GUIDE.md"
ARTIFACT = ROOT / "tests" / "artifacts" / "browser-contact-graph.png"
BROWSER_URL = os.environ.get("NEO4J_BROWSER_URL", "http://127.0.0.1:7474/browser/")
SLACK_S = 1800
#: Risk bands of browser_labels.cypher: (label, lowest risk, highest risk).
BANDS = (("HighRisk", 0.05, 2.0), ("MediumRisk", 0.01, 0.05), ("LowRisk", -1.0, 0.01))
KIND_LABELS = {kind: kind.capitalize() for kind in KINDS}
#: Fill colours of the style, read back from the drawn SVG.
CASE_FILL, HIGH_FILL = "#B00020", "#F2662C"


# -- the world ----------------------------------------------------------------
@pytest.fixture(scope="module")
def world():
    """A traced synthetic city in Neo4j, labelled for Browser: ``(store, city, run_id)``."""
    store = open_test_store()
    city = generate_city(n_people=400, days=4, seed=5)
    store.append(city.batch)
    run_id = store.save_run(trace(store, city.cases, hops=2))
    label(store, run_id)
    yield store, city, run_id
    wipe(store)
    store.close()


def label(store, run_id):
    keys, rows = store.run("browser_labels", write=True, run=run_id)
    return dict(zip(keys, rows[0]))


def query(store, text, **params):
    records, _, _ = store.driver.execute_query(text, params, database_=store.settings.database)
    return records


def run_risks(store, run_id):
    """Each exposed person's highest risk over the run's EXPOSED_TO edges."""
    rows = query(store, "MATCH ()-[e:EXPOSED_TO {run: $run}]->(b:Person) RETURN b.key AS person, e.risk AS risk",
                 run=run_id)
    return pd.DataFrame([dict(r) for r in rows]).groupby("person")["risk"].max()


def band_of(risk):
    return next(name for name, lo, hi in BANDS if lo <= risk < hi)


def labelled(store, label_name):
    return {r["key"] for r in query(store, f"MATCH (p:{label_name}) RETURN p.key AS key")}


def contact_graph(store, run_id):
    """What Browser must draw, from ``contact_graph.cypher`` through the Python
    driver: distinct nodes (id → labels), distinct relationships (id → type)
    and how many relationship values the rows hold (Browser's status line
    counts those, repeats included)."""
    _, rows = store.run("contact_graph", run=run_id, slack_s=SLACK_S)
    nodes, rels, rel_values = {}, {}, 0
    for row in rows:
        for value in row:
            if value is None:
                continue
            if hasattr(value, "labels"):
                nodes[value.element_id] = set(value.labels)
            else:
                rels[value.element_id] = value.type
                rel_values += 1
    return nodes, rels, rel_values


# -- labels and style -----------------------------------------------------------
def test_labels_follow_place_kind_and_the_runs_risk_bands(world):
    store, _, run_id = world
    for row in query(store, "MATCH (pl:Place) RETURN pl.kind AS kind, labels(pl) AS labels"):
        assert set(row["labels"]) == {"Place", KIND_LABELS[row["kind"]]}
    risks = run_risks(store, run_id)
    assert labelled(store, "Contact") == set(risks.index)
    for name, _, _ in BANDS:
        assert labelled(store, name) == {p for p, r in risks.items() if band_of(r) == name}, name
    edges = query(store, "MATCH ()-[e:EXPOSED_TO {run: $run}]->() "
                         "RETURN e.summary AS summary, e.rule AS rule, e.risk AS risk, e.overlap_s AS overlap_s",
                  run=run_id)
    assert edges
    for edge in edges:
        check_summary(**dict(edge))


def check_summary(summary, rule, risk, overlap_s):
    """``summary`` reads back as the edge's rule, risk (per cent, one decimal)
    and overlap (whole minutes)."""
    found = re.fullmatch(r"(\w+) (<0\.1|\d+(?:\.\d)?)% (\d+)h(\d+)m", summary)
    assert found, summary
    shown_rule, pct, hours, minutes = found.groups()
    assert shown_rule == rule
    if pct == "<0.1":
        assert risk < 0.001, summary
    else:
        assert risk >= 0.001 and abs(float(pct) - 100 * risk) <= 0.05 + 1e-9, (summary, risk)
    assert int(minutes) < 60 and 0 <= overlap_s - 60 * (60 * int(hours) + int(minutes)) < 60, (summary, overlap_s)


def test_labelling_is_idempotent_and_shows_one_run(world):
    store, city, run_id = world
    first = label(store, run_id)
    assert label(store, run_id) == {**first, "cleared": first["contacts"]}
    other = store.save_run(trace(store, city.cases[:1], hops=1))
    try:
        label(store, other)
        assert labelled(store, "Contact") == set(run_risks(store, other).index)
    finally:
        query(store, "MATCH ()-[e:EXPOSED_TO {run: $run}]->() DELETE e", run=other)
        query(store, "MATCH (r:TraceRun {id: $run}) DETACH DELETE r", run=other)
        label(store, run_id)
    assert labelled(store, "Contact") == set(run_risks(store, run_id).index)


def parse_grass(text):
    """Selector → properties, read the way Browser 5 reads GraSS (``parseGrass``):
    quotes are dropped, braces inside quotes kept, a property is ``name: value``."""
    rules, selector, body, quoted, in_rule, nested = {}, "", "", False, False, False
    for ch in text:
        if ch in "'\"":
            quoted = not quoted
        elif ch == "{" and not quoted:
            nested, in_rule = (True, True) if in_rule else (False, True)
        elif ch == "}" and not quoted and nested:
            nested = False
        elif ch == "}" and not quoted:
            rules[selector], selector, body, in_rule = body, "", "", False
        elif in_rule:
            body += ch
        elif not ch.isspace():
            selector += ch
    return {sel: dict(tuple(p.strip() for p in part.split(":")) for part in body.split(";")
                      if len(part.split(":")) == 2)
            for sel, body in rules.items()}


def test_grass_styles_every_label_the_kit_writes():
    text = GRASS.read_text(encoding="utf-8")
    assert "/*" not in text and "//" not in text, "Browser's GraSS reader has no comments"
    rules = parse_grass(text)
    assert len(rules) == sum(line.rstrip().endswith("{") for line in text.splitlines())
    assert all(rules.values()), "every rule has properties"
    wanted = {"Person", "Place", "Case", "Contact", *(b for b, _, _ in BANDS), *KIND_LABELS.values()}
    assert {f"node.{name}" for name in wanted} <= set(rules)
    assert {"relationship.EXPOSED_TO", "relationship.VISITED"} <= set(rules)
    assert rules["relationship.EXPOSED_TO"]["caption"] == "{summary}"
    # Later rules win in Browser: bands grow with risk and a case outranks all.
    sizes = [int(rules[f"node.{b}"]["diameter"].rstrip("px")) for b in ("LowRisk", "MediumRisk", "HighRisk", "Case")]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)
    order = list(rules)
    assert order.index("node.Case") > max(order.index(f"node.{b}") for b, _, _ in BANDS)
    assert rules["node.Case"]["color"] == CASE_FILL and rules["node.HighRisk"]["color"] == HIGH_FILL


def test_guide_walks_through_the_commands_it_names():
    guide = GUIDE.read_text(encoding="utf-8")
    for needle in (":style", ":param run =>", "browser_labels.cypher", "contact_graph.cypher",
                   "person_timeline", "place_visitors", "hotspots", ":config initialNodeDisplay"):
        assert needle in guide, needle


# -- headless Chromium ------------------------------------------------------------
class DevTools:
    """One headless Chromium driven over the DevTools protocol (one page)."""

    def __init__(self, size=(1600, 1100), timeout_s=30):
        import websocket  # websocket-client, a test dependency

        self.profile = tempfile.mkdtemp(prefix="tracer-devtools-")
        args = [require_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0", f"--window-size={size[0]},{size[1]}", "about:blank"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ws, self.next_id = None, 0
        try:
            port = self._port(timeout_s)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout_s) as reply:
                page = next(t for t in json.load(reply) if t["type"] == "page")
            self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout_s,
                                                  suppress_origin=True)
        except BaseException:
            self.close()
            raise

    def _port(self, timeout_s):
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.proc.poll() is None:
            lines = port_file.read_text().split() if port_file.exists() else []
            if len(lines) >= 2:
                return int(lines[0])
            time.sleep(0.1)
        raise RuntimeError(f"chromium opened no DevTools port (exit code {self.proc.poll()})")

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def js(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]!r} failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression, what, timeout_s=60):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.25)
        text = self.js("document.body ? document.body.innerText.slice(0, 1500) : ''")
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; the page says:\n{text}")

    def type_into(self, selector, text):
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", text=text)

    def paste_into(self, selector, text):
        """Paste ``text`` as a user would (typing would let an editor
        auto-close brackets behind the text)."""
        self.js(f"""(() => {{
            const el = document.querySelector({json.dumps(selector)}); el.focus();
            const data = new DataTransfer(); data.setData('text/plain', {json.dumps(text)});
            el.dispatchEvent(new ClipboardEvent('paste', {{clipboardData: data, bubbles: true, cancelable: true}}));
        }})()""")

    def click(self, selector):
        self.js(f"document.querySelector({json.dumps(selector)}).click()")

    def screenshot(self, png):
        png = Path(png)
        png.parent.mkdir(parents=True, exist_ok=True)
        png.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))
        return png

    def close(self):
        if self.ws is not None:
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for _ in range(20):  # helper processes may still be writing the profile
            shutil.rmtree(self.profile, ignore_errors=True)
            if not os.path.exists(self.profile):
                break
            time.sleep(0.25)


FRAMES = "document.querySelectorAll('[data-testid=frame]')"
#: The newest result frame's text (Browser puts new frames on top).
TOP_FRAME = f"({FRAMES}[0] || {{innerText: ''}}).innerText"


def command(chrome, text, timeout_s=60):
    """Paste ``text`` into Browser's editor, run it, return the new frame's text."""
    before = chrome.js(f"{FRAMES}.length")
    chrome.paste_into("[data-testid=activeEditor] textarea", text)
    chrome.click("[data-testid=editor-Run]")
    chrome.wait(f"{FRAMES}.length > {before}", f"a result frame for {text.splitlines()[0][:60]!r}", timeout_s)
    return chrome.js(TOP_FRAME)


def connect(chrome, conf):
    """Open Browser on the server's bolt address and log in with its form."""
    bolt = urlsplit(conf.uri)
    url = f"{BROWSER_URL}?dbms={quote(f'bolt://{conf.user}@{bolt.hostname}:{bolt.port or 7687}')}" \
          "&preselectAuthMethod=NATIVE"
    chrome.send("Page.enable")
    chrome.send("Page.navigate", url=url)
    chrome.wait("!!document.querySelector('[data-testid=password]')", f"the login form of {BROWSER_URL}")
    chrome.type_into("[data-testid=password]", conf.password)
    chrome.click("[data-testid=connect]")
    chrome.wait("document.body.innerText.includes('You are connected as user')", "the connection")


def settled(chrome, what, timeout_s=90):
    """Wait until the force layout stops moving the drawn nodes."""
    positions = "[...document.querySelectorAll('svg g.node')].map(n => n.getAttribute('transform')).join(';')"
    last, deadline = None, time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = chrome.js(positions)
        if now and now == last:
            return
        last = now
        time.sleep(1.0)
    raise AssertionError(f"the layout of {what} did not settle in {timeout_s} s")


def overview_counts(chrome):
    """Label and type counts of the newest frame's overview, e.g. ``{'Case': 3}``."""
    pills = chrome.js(f"[...{FRAMES}[0].querySelectorAll('*')].filter(e => e.children.length === 0)"
                      ".map(e => e.textContent.trim()).filter(t => /^\\w+ \\([\\d,]+\\)$/.test(t))")
    found = (re.fullmatch(r"(\w+) \(([\d,]+)\)", pill).groups() for pill in pills)
    return {name: int(n.replace(",", "")) for name, n in found}


def test_browser_draws_the_contact_graph_of_a_run(world):
    store, _, run_id = world
    nodes, rels, rel_values = contact_graph(store, run_id)
    assert nodes, "the run has exposures to draw"
    chrome = DevTools()
    try:
        connect(chrome, store.settings)
        # Show every node, and only the relationships the query returns.
        command(chrome, ":config initialNodeDisplay: 1000")
        command(chrome, ":config autoComplete: false")
        style = command(chrome, ":style " + GRASS.read_text(encoding="utf-8"))
        assert "node.HighRisk" in style and "error" not in style.lower(), style[:500]
        assert f'"run": "{run_id}"' in command(chrome, f":param run => '{run_id}'")
        assert f'"slack_s": {SLACK_S}' in command(chrome, f":param slack_s => {SLACK_S}")
        command(chrome, (ROOT / "queries" / "contact_graph.cypher").read_text(encoding="utf-8"))
        shown = chrome.wait(f"{TOP_FRAME}.match(/Displaying ([\\d,]+) nodes, ([\\d,]+) relationships/)",
                            "the drawn contact graph", timeout_s=120)
        settled(chrome, "the contact graph")
        counts = overview_counts(chrome)
        circles = chrome.js("[...document.querySelectorAll('svg g.node circle.b-outline')]"
                            ".map(c => c.getAttribute('fill'))")
        drawn_rels = chrome.js("document.querySelectorAll('svg g.relationship').length")
        # The picture: the frame full screen, the graph zoomed to fit it.
        chrome.click("[data-testid=frame] button[title=Fullscreen]")
        time.sleep(1.0)
        chrome.click("[data-testid=frame] button[aria-label=zoom-to-fit]")
        time.sleep(1.0)
        chrome.screenshot(ARTIFACT)
    finally:
        chrome.close()

    assert [int(shown[1].replace(",", "")), int(shown[2].replace(",", ""))] == [len(nodes), rel_values]
    assert (len(circles), drawn_rels) == (len(nodes), len(rels))
    for name in ("Person", "Place", "Case", "Contact", "HighRisk"):
        assert counts.get(name, 0) == sum(name in labels for labels in nodes.values()), name
    assert counts["EXPOSED_TO"] == sum(t == "EXPOSED_TO" for t in rels.values())
    # The style is applied: every case drawn in the case colour, every
    # high-risk contact that is not a case in the high-risk colour.
    fills = [f.upper() for f in circles]
    assert fills.count(CASE_FILL) == counts["Case"]
    assert fills.count(HIGH_FILL) == sum("HighRisk" in ls and "Case" not in ls for ls in nodes.values())
    assert png_variety(ARTIFACT) > 50, "the screenshot shows a drawing, not a blank page"

