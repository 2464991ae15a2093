"""The API reference is the single source for parameters: every public name of the
package and of the subpackages the reference renders has a numpydoc docstring, parsed
by griffe as mkdocstrings renders it, whose Parameters section names exactly the
callable's parameters."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import griffe
import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"


def _rendered_modules() -> list[str]:
    """The modules the reference pages render whole (``::: module``)."""
    names = []
    for page in sorted(REFERENCE.glob("*.md")):
        names += re.findall(r"^::: (\S+)$", page.read_text(), flags=re.M)
    return [n for n in names if _is_module(n)]


def _is_module(name: str) -> bool:
    try:
        return inspect.ismodule(importlib.import_module(name))
    except ImportError:
        return False


def _public_names() -> list[tuple[str, str]]:
    out = [("automl_meta", n) for n in importlib.import_module("automl_meta").__all__
           if n != "__version__"]
    for module_name in _rendered_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            out.append((module_name, name))
    return sorted(set(out))


PUBLIC = _public_names()


def _documented_parameters(text: str) -> set[str]:
    """The names a docstring's Parameters, Other Parameters and Attributes sections give
    (a dataclass documents its fields, which are its parameters, as attributes)."""
    sections = griffe.Docstring(text, parser="numpy").parse(warnings=False)
    names: set[str] = set()
    for section in sections:
        if section.kind in (griffe.DocstringSectionKind.parameters,
                            griffe.DocstringSectionKind.other_parameters,
                            griffe.DocstringSectionKind.attributes):
            names |= {p.name.lstrip("*") for p in section.value}
    return names


def _signature_parameters(obj) -> set[str]:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return set()
    return {p.name for p in signature.parameters.values()
            if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def test_the_reference_renders_the_public_subpackages():
    modules = set(_rendered_modules())
    for package in ("automl_meta.data", "automl_meta.knowledge", "automl_meta.meta_features",
                    "automl_meta.warm_start", "automl_meta.search", "automl_meta.report"):
        assert package in modules, package
    assert len(PUBLIC) > 40


@pytest.mark.parametrize("module_name, name", PUBLIC, ids=[f"{m}.{n}" for m, n in PUBLIC])
def test_public_names_have_numpydoc_docstrings(module_name, name):
    obj = getattr(importlib.import_module(module_name), name)
    if not (inspect.isclass(obj) or inspect.isfunction(obj)):
        return  # constants are documented where they are defined
    doc_text = inspect.getdoc(obj)
    assert doc_text, f"{module_name}.{name} has no docstring"
    summary = doc_text.strip().splitlines()[0]
    assert summary and not summary.startswith(" "), f"{name}: no one-line summary"
    target = obj.__init__ if inspect.isclass(obj) else obj
    wanted = _signature_parameters(target)
    if inspect.isclass(obj) and obj.__init__ is object.__init__:
        wanted = set()
    if issubclass(obj, BaseException) if inspect.isclass(obj) else False:
        wanted = set()  # exceptions take the message
    documented = _documented_parameters(doc_text)
    missing = wanted - documented
    assert not missing, f"{module_name}.{name}: parameters not documented: {sorted(missing)}"
    unknown = documented - wanted - {"kwargs", "args"}
    if inspect.isclass(obj):
        unknown -= {n for n in unknown if hasattr(obj, n) or n.endswith("_")}
    if wanted or not inspect.isclass(obj):
        assert not unknown, f"{module_name}.{name}: documents unknown parameters {sorted(unknown)}"
