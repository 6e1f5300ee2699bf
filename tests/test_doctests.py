"""Every docstring example in the library runs and shows what the code does
today (``Examples`` sections are documentation, so they are tested too)."""

import doctest
import importlib
import os
import pkgutil

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("tracer", "loaders", "queries")


def _modules():
    names = ["cli"]
    for package in PACKAGES:
        names.append(package)
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules([os.path.join(ROOT, package)])]
    return sorted(names)


def test_the_library_has_examples():
    tested = sum(len(doctest.DocTestFinder().find(importlib.import_module(n))) for n in _modules())
    assert tested >= 100  # a collection that found nothing would pass silently below


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes a file leaves nothing in the work tree
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} example(s) in {name} fail (run python -m doctest -v)"
