"""Every example in the docs, the README and the docstrings runs and gives what it shows."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
import re
from pathlib import Path

import attrs
import pytest

import crmkit
from crmkit.entities import ENTITY_TYPES, Address, OrderLine

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules() -> list[str]:
    names = ["crmkit"]
    names += [
        m.name
        for m in pkgutil.walk_packages(crmkit.__path__, "crmkit.")
        if not m.name.endswith("__main__")
    ]
    return names


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
_PLOT_BLOCK = re.compile(r"```python\n(?:(?!```).)*?import matplotlib.*?```", re.DOTALL)


@pytest.mark.parametrize("path", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_markdown_examples(path: Path) -> None:
    text = path.read_text()
    if not HAVE_MATPLOTLIB:
        # README's install line gives the test extra only; the plot examples need the plot extra.
        text = _PLOT_BLOCK.sub("", text)
    test = doctest.DocTestParser().get_doctest(text, {}, path.name, str(path), 0)
    runner = doctest.DocTestRunner(optionflags=FLAGS, verbose=False)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} example(s) failed in {path.name}"
    assert result.attempted > 0 or ">>>" not in text


def test_entities_page_documents_every_field() -> None:
    text = (ROOT / "docs" / "entities.md").read_text()
    sections = re.split(r"\n### ", text)
    for cls in (*ENTITY_TYPES, Address, OrderLine):
        section = next((s for s in sections if s.startswith(f"`{cls.__name__}`")), None)
        assert section is not None, f"docs/entities.md has no section for {cls.__name__}"
        base = {"id", "version", "created_at", "updated_at", "attributes"}
        for field in attrs.fields(cls):
            if field.name in base:
                continue
            assert f"`{field.name}`" in section, f"{cls.__name__}.{field.name} is not documented"


def test_markdown_examples_need_matplotlib_only_in_plot_blocks() -> None:
    # README's install line has no plot extra: everything outside the plot blocks must
    # run with matplotlib unavailable (checked in a subprocess that blocks its import).
    import subprocess
    import sys

    code = "\n".join(
        [
            "import doctest, pathlib, re, sys",
            "sys.modules['matplotlib'] = None",
            f"block = re.compile({_PLOT_BLOCK.pattern!r}, re.DOTALL)",
            f"paths = [pathlib.Path(p) for p in {[str(p) for p in [ROOT / 'README.md', *DOCS]]!r}]",
            "failed = 0",
            "for p in paths:",
            "    t = doctest.DocTestParser().get_doctest(block.sub('', p.read_text()), {}, p.name, str(p), 0)",
            f"    r = doctest.DocTestRunner(optionflags={FLAGS}, verbose=False)",
            "    r.run(t)",
            "    failed += r.failures",
            "sys.exit(min(failed, 100))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
