"""One self-contained HTML page per run: plotly's own JavaScript inlined once, no CDN, no network.

A report is opened from wherever the run's files were copied (a laptop, an archive, an e-mail),
so nothing in it may point outside the file: the chart library comes from the installed `plotly`
package (`plotly.offline.get_plotlyjs()`), styles are inline, and every value shown is escaped.
Monitors build their pages from `Section`s of ready-made fragments: `table`, `figure`,
`paragraph`, `key_values`; `render_page` assembles them and `write_report` writes atomically.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from monitor_service import io

if TYPE_CHECKING:
    import plotly.graph_objects as go

REPORT_FILE = "report.html"

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1f2933;background:#f7f8fa}
header{background:#102a43;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px} header p{margin:4px 0 0;color:#bcccdc;font-size:13px}
main{padding:8px 28px 40px;max-width:1200px}
section{background:#fff;border:1px solid #d9e2ec;border-radius:6px;margin:18px 0;padding:14px 18px}
section h2{font-size:17px;margin:0 0 10px}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{background:#f0f4f8;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600}
.ok{background:#e3f9e5;color:#1f7a34} .bad{background:#ffe3e3;color:#a61b1b} .warn{background:#fff3c4;color:#8d6708}
.muted{color:#829ab1;font-size:12px}
dl{display:grid;grid-template-columns:max-content auto;gap:4px 16px;margin:0;font-size:13px} dt{color:#52606d}
"""


@dataclass
class Section:
    """A titled block of already-rendered HTML fragments (see `table`, `figure`, `paragraph`)."""

    title: str
    parts: list[str] = field(default_factory=list)
    anchor: str | None = None

    def add(self, fragment: str) -> Section:
        self.parts.append(fragment)
        return self


def escape(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def format_number(value: object, digits: int = 4) -> str:
    """Numbers for people: fixed significant digits, strings such as "Infinity" as they are."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return escape(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}g}"


def badge(text: str, tone: str) -> str:
    """A coloured label; `tone` is ok, bad or warn."""
    return f'<span class="badge {escape(tone)}">{escape(text)}</span>'


def status_badge(status: str) -> str:
    tone = {"Completed": "ok", "CompletedWithViolations": "bad", "Failed": "bad"}.get(status, "warn")
    return badge(status, tone)


def paragraph(text: str, *, muted: bool = False) -> str:
    return f'<p class="muted">{escape(text)}</p>' if muted else f"<p>{escape(text)}</p>"


def key_values(pairs: Iterable[tuple[str, object]]) -> str:
    items = "".join(f"<dt>{escape(k)}</dt><dd>{format_number(v)}</dd>" for k, v in pairs)
    return f"<dl>{items}</dl>"


def table(columns: Sequence[str], rows: Iterable[Sequence[object]], *, raw_columns: Iterable[int] = ()) -> str:
    """An HTML table; numbers are right-aligned, cells of `raw_columns` are trusted HTML (badges)."""
    raw = set(raw_columns)
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            if i in raw:
                cells.append(f"<td>{value}</td>")
            elif isinstance(value, int | float) and not isinstance(value, bool):
                cells.append(f'<td class="num">{format_number(value)}</td>')
            else:
                cells.append(f"<td>{escape(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure(fig: go.Figure | Mapping[str, Any], *, height: int = 360) -> str:
    """A figure (plotly object or its plain JSON spec) as a fragment drawn by `Plotly.newPlot`.

    The JSON is written here rather than by `Figure.to_html`: that validates every property and
    deep-copies the template into each figure (about 10 ms per chart, a second for a report of
    dozens of features, and 7 KB of template per chart). The template is inlined once per page
    (`render_page`), the chart library too.
    """
    spec = fig if isinstance(fig, Mapping) else fig.to_plotly_json()
    layout = {**spec.get("layout", {}), "height": height, "margin": {"l": 50, "r": 20, "t": 40, "b": 40}}
    layout.pop("template", None)
    chart_id = f"chart-{next(_chart_ids)}"
    body = _script_json({"data": list(spec.get("data", [])), "layout": layout})
    return (f'<div style="height:{height}px; width:100%;"><div id="{chart_id}" class="plotly-graph-div" '
            'style="height:100%; width:100%;"></div><script>(function(){var f=' + body
            + ";f.layout.template=window.REPORT_TEMPLATE;"
            f'Plotly.newPlot("{chart_id}",f.data,f.layout,{_CONFIG});}})();</script></div>')


_chart_ids = itertools.count(1)
_CONFIG = '{"displaylogo":false,"responsive":true}'


def _script_json(value: object) -> str:
    """JSON that is safe inside a <script> element (no `</script>` or `<!--` can close it)."""
    from plotly.io.json import to_json_plotly

    text: str = to_json_plotly(value)
    return text.replace("</", "<\\/").replace("<!--", "<\\u0021--")


@cache
def _template_js() -> str:
    import plotly.io as pio

    return "window.REPORT_TEMPLATE=" + _script_json(pio.templates["plotly_white"].to_plotly_json()) + ";"


@cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    script: str = get_plotlyjs()
    return script


def render_page(title: str, subtitle: str, sections: Sequence[Section], *,
                generated_at: datetime | None = None) -> str:
    """The whole page: inline styles and chart library, then each section in order."""
    when = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S UTC")
    blocks = []
    for section in sections:
        anchor = f' id="{escape(section.anchor)}"' if section.anchor else ""
        blocks.append(f"<section{anchor}><h2>{escape(section.title)}</h2>{''.join(section.parts)}</section>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style><script>{_plotly_js()}</script><script>{_template_js()}</script></head><body>"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)} &middot; generated {escape(when)}</p></header>"
        f"<main>{''.join(blocks)}</main></body></html>\n"
    )


def write_report(output_dir: str, page: str, name: str = REPORT_FILE) -> str:
    """Write the page atomically into the run's folder; returns its path."""
    path = io.join(output_dir, name)
    io.write_text_atomic(path, page)
    return path


def figure_json(fig: Any) -> dict[str, Any]:
    """A figure as plain JSON (data and layout), for pages that draw it themselves (the dashboard)."""
    import json

    parsed: dict[str, Any] = json.loads(fig.to_json())
    return parsed
