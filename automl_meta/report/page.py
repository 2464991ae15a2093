"""Assemble a self-contained HTML report from the layout in ``dashboards/``.

``dashboards/page.html`` is the page shell and ``dashboards/layout.json`` lists each
report's sections (id, title, caption) in order; the report modules only build the body of
each section, a plotly figure or an HTML fragment. plotly.js is embedded once, so the
file works offline.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from string import Template
from typing import Any

from .._system import shipped_file
from .._version import __version__
from ..exceptions import AutoMLError

DASHBOARDS_ENV = "AUTOML_META_DASHBOARDS"


def dashboards_dir() -> Path:
    """``$AUTOML_META_DASHBOARDS``, else the ``dashboards/`` folder beside the package's
    source tree (the repository ships it), or the copy an installed wheel carries."""
    env = os.environ.get(DASHBOARDS_ENV)
    path = Path(env) if env else shipped_file("dashboards", "page.html").parent
    if not (path / "page.html").is_file() or not (path / "layout.json").is_file():
        raise AutoMLError(
            f"The report layout (page.html and layout.json) is not in {path}; set "
            f"${DASHBOARDS_ENV} to the dashboards/ folder of an automl-meta checkout.")
    return path


@dataclass
class Section:
    """One section's body: a plotly figure, HTML, or both (the HTML first)."""

    figure: Any = None
    html: str = ""


def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def table(rows: list[dict[str, Any]], numeric: tuple[str, ...] = ()) -> str:
    """An HTML table of ``rows`` (dicts with the same keys), values escaped."""
    if not rows:
        return '<p class="note">Nothing to show.</p>'
    columns = list(rows[0])
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{escape(row[c])}</td>' if c in numeric else
            f"<td>{escape(row[c])}</td>" for c in columns)
        body.append(f"<tr>{cells}</tr>")
    return f'<table class="data"><tr>{head}</tr>{"".join(body)}</table>'


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def render(kind: str, sections: dict[str, Section], *, title: str, subtitle: str,
           summary_html: str) -> str:
    """The report page: the ``kind`` sections of ``layout.json`` that ``sections`` has,
    in the layout's order."""
    from plotly.offline import get_plotlyjs

    folder = dashboards_dir()
    layout = json.loads((folder / "layout.json").read_text())[kind]
    parts = []
    for entry in layout:
        section = sections.get(entry["id"])
        if section is None:
            continue
        body = section.html
        if section.figure is not None:
            body += section.figure.to_html(
                full_html=False, include_plotlyjs=False, div_id=f"fig-{entry['id']}",
                config={"displaylogo": False, "responsive": True})
        parts.append(f'<section id="{escape(entry["id"])}"><h2>{escape(entry["title"])}</h2>'
                     f'<p class="caption">{escape(entry["caption"])}</p>{body}</section>')
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    shell = Template((folder / "page.html").read_text())
    return shell.safe_substitute(
        title=escape(title), subtitle=subtitle, summary=summary_html,
        sections="\n".join(parts), plotlyjs=get_plotlyjs(),
        generated=f"automl-meta {escape(__version__)}, {stamp}")


def write(path: str | os.PathLike, page: str) -> Path:
    """Write ``page`` to ``path`` (folders created); returns the absolute path."""
    out = Path(path).expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
