"""Drive headless Chromium from tests: the DOM after scripts ran, and screenshots.

No dependency beyond the ``chromium`` binary (Debian package ``chromium``):
``--dump-dom`` gives the serialised DOM once the page's scripts ran (virtual
time lets timers and rendering settle), ``--screenshot`` a PNG. Each call
uses a fresh profile directory and switches off everything that would reach
the network (updates, sync, QUIC, background fetches).

Examples
--------
>>> from tests.browser import chromium_path, dump_dom, parse_dom  # doctest: +SKIP
>>> dom = parse_dom(dump_dom("/tmp/report.html"))                 # doctest: +SKIP
>>> len(dom.find_all("circle", cls="node"))                       # doctest: +SKIP
42
"""

import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

__all__ = [
    "CHROMIUM_FLAGS", "chromium_path", "require_chromium", "file_url", "dump_dom", "screenshot",
    "parse_dom", "Dom", "Element", "png_variety",
]  # fmt: skip

#: Flags for every run: headless, sandbox off (containers), nothing on the network.
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
)  # fmt: skip
INSTALL_HINT = "apt-get update && apt-get install -y chromium"


def chromium_path():
    """The Chromium binary (``$CHROMIUM`` first), or None."""
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def require_chromium():
    """The binary, or fail the test with the command that installs it
    (scripts/test installs it; a page nobody looked at is not tested)."""
    path = chromium_path()
    if path is None:
        pytest.fail(f"headless Chromium not found; install it with: {INSTALL_HINT}")
    return path


def file_url(path, fragment=""):
    """``file://`` URL of a local file, with an optional ``#fragment``."""
    url = Path(path).resolve().as_uri()
    return f"{url}#{fragment}" if fragment else url


def _run(args, url, timeout_s):
    binary = require_chromium()
    with tempfile.TemporaryDirectory(prefix="tracer-chromium-") as profile:
        cmd = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc


def _as_url(target):
    text = str(target)
    return text if "://" in text else file_url(text)


def dump_dom(target, budget_ms=5000, timeout_s=90):
    """The DOM (HTML text) of a page or file after its scripts ran."""
    return _run(["--dump-dom", f"--virtual-time-budget={budget_ms}"], _as_url(target), timeout_s).stdout


def screenshot(target, png, size=(1400, 1000), budget_ms=5000, timeout_s=90):
    """Save a PNG of a page or file; returns the PNG path."""
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    if png.exists():
        png.unlink()
    args = [f"--screenshot={png}", f"--window-size={size[0]},{size[1]}", f"--virtual-time-budget={budget_ms}"]
    _run(args, _as_url(target), timeout_s)
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot to {png}")
    return png


class Element:
    """One element of a parsed DOM: ``tag``, ``attrs`` (dict), ``text`` (all text inside)."""

    def __init__(self, tag, attrs):
        self.tag, self.attrs, self.parts = tag, dict(attrs), []

    @property
    def text(self):
        return "".join(self.parts)

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def __repr__(self):
        return f"<{self.tag} {self.attrs}>"


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Dom(HTMLParser):
    """A flat list of elements (``elements``) with the text each contains."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements, self._open = [], []

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs)
        self.elements.append(element)
        if tag not in _VOID:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append(Element(tag, attrs))

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for element in self._open:
            element.parts.append(data)

    def find_all(self, tag=None, cls=None, **attrs):
        """Elements by tag, class and exact attribute values (``data_testid`` → ``data-testid``)."""
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [
            e for e in self.elements
            if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
            and all(e.attrs.get(k) == v for k, v in wanted.items())
        ]  # fmt: skip

    def find(self, tag=None, cls=None, **attrs):
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None


def parse_dom(text):
    """Parse HTML text into a :class:`Dom`."""
    dom = Dom()
    dom.feed(text)
    dom.close()
    return dom


def png_variety(png):
    """Distinct byte values in a PNG's decompressed image data: a blank
    (one-colour) page gives a handful, a drawn page dozens or more."""
    import struct
    import zlib

    blob = Path(png).read_bytes()
    if blob[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{png} is not a PNG")
    pos, idat = 8, []
    while pos < len(blob):
        (length,) = struct.unpack(">I", blob[pos : pos + 4])
        kind = blob[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat.append(blob[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return len(set(zlib.decompress(b"".join(idat))))
