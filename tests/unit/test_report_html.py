"""The report page builder: self-contained (no external resources), escaped, charts inlined once."""

from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from monitor_service.reports.html import Section, figure, render_page, table, write_report


def test_page_is_self_contained_and_escaped(tmp_path: Path) -> None:
    chart = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    page = render_page("Report <x>", "run 1", [
        Section("Numbers", [table(["name", "value"], [["<script>alert(1)</script>", 0.123456789], ["n", 12345]])]),
        Section("Chart", [figure(chart), figure(chart)]),
    ])
    # The library is inlined once (the first script); both charts are drawn by it.
    library = get_plotlyjs()
    assert page.count(library) == 1
    markup = page.replace(library, "")
    # Outside the library's own code nothing is fetched from elsewhere: no src/href to a URL, no CDN.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert "cdn.plot.ly" not in markup
    assert markup.count("Plotly.newPlot") == 2
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Report &lt;x&gt;" in page
    assert '<td class="num">0.1235</td>' in page and '<td class="num">12,345</td>' in page
    path = write_report(str(tmp_path), page)
    assert Path(path).read_text(encoding="utf-8") == page
