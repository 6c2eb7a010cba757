"""The dashboard in headless Chromium against a real `monitor serve` with generated history.

Sign in, the overview's sparklines, a schedule's charts (points read from the plotly graph divs),
clicking a window, filtering violations, editing a threshold and seeing the next run use it, a
run's report, read-only keys and signing out. Screenshots land in pytest's temporary folder.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser import graph_traces
from tests.e2e.harness import Served

pytestmark = pytest.mark.browser


def _new_page(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Script errors, and anything the Content-Security-Policy refused (an inline script, a CDN).
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Refused" in message.text else None)
    page.errors = errors  # type: ignore[attr-defined]
    return page


def _sign_in(page: Any, served: Served, key: str, path: str = "/ui/") -> None:
    page.goto(served.url + path)
    assert "/ui/login" in page.url
    page.fill("#key", key)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(lambda url: "/ui/login" not in url)


def _charts(page: Any) -> dict[str, list[dict[str, Any]]]:
    """Titles of the schedule page's panels -> the traces plotly drew."""
    page.wait_for_function("Array.from(document.querySelectorAll('[data-figure]'))"
                           ".every(d => d.getAttribute('data-drawn') === '1')")
    titles = page.eval_on_selector_all("#panels section.panel", "s => s.map(x => [x.querySelector('h2').innerText, "
                                                                "x.querySelector('[data-figure]').id])")
    traces = {g["id"]: g["traces"] for g in graph_traces(page)}
    return {title: traces[chart] for title, chart in titles}


def _api(served: Served, path: str, **params: Any) -> Any:
    with served.api() as api:
        response = api.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()


def test_sign_in_and_overview(browser: Any, served: Served, artifacts_dir: Path) -> None:
    page = _new_page(browser)
    page.goto(served.url + "/ui/")
    assert "/ui/login" in page.url
    page.fill("#key", "mon_wrong")
    page.click("#login-form button[type=submit]")
    assert "wrong or has been revoked" in page.inner_text("#login-error")
    page.fill("#key", served.admin_key)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(served.url + "/ui/")
    cookie = next(c for c in page.context.cookies() if c["name"] == "monitor_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax" and cookie["path"] == "/ui"
    lifetime = cookie["expires"] - time.time()
    assert served.settings.ui_session_minutes * 60 - 120 < lifetime <= served.settings.ui_session_minutes * 60
    assert "monitor_session" not in page.evaluate("document.cookie")  # scripts cannot read it
    since = datetime.now(UTC) - timedelta(hours=24)
    for name, schedule in (("churn-hourly", served.dq_schedule), ("churn-quality", served.mq_schedule)):
        runs = _api(served, "/api/v1/executions", schedule_id=schedule, limit=1000)["items"]
        expected = sum(r["violation_count"] or 0 for r in runs if datetime.fromisoformat(r["window_end"]) >= since)
        row = page.locator(f"#schedules tr[data-schedule='{name}']")
        assert int(row.locator("td.day").inner_text().replace(",", "")) == expected
        spark = row.locator("svg.spark")
        assert spark.get_attribute("data-points") == str(min(48, len(runs)))
        assert len(spark.locator("polyline").get_attribute("points").split()) == min(48, len(runs))
    page.screenshot(path=str(artifacts_dir / "overview.png"), full_page=True)
    assert page.errors == []  # type: ignore[attr-defined]


def test_schedule_charts_click_and_filter(browser: Any, served: Served, artifacts_dir: Path) -> None:
    page = _new_page(browser)
    _sign_in(page, served, served.admin_key)
    page.click("text=churn-hourly")
    page.wait_for_url(f"**/ui/schedules/{served.dq_schedule}")
    charts = _charts(page)
    runs = _api(served, "/api/v1/executions", schedule_id=served.dq_schedule, limit=1000)["items"]
    (timeline,) = [g["traces"] for g in graph_traces(page, "#timeline")]
    assert sum(len(t["x"]) for t in timeline) == len(runs) == served.windows
    assert {url for t in timeline for url in t["customdata"]} == {f"/ui/runs/{r['id']}" for r in runs}
    history = _api(served, f"/api/v1/schedules/{served.dq_schedule}/features/age/history", limit=1000)["points"]
    line, limit = charts["Drift distance: age"]
    assert len(line["x"]) == len(history) == served.windows
    assert line["y"] == pytest.approx([p["metrics"]["drift_distance"] for p in history])
    assert limit["y"] == [0.1, 0.1] and line["dash"] == "solid"
    baseline, window = charts["Latest window against the baseline: age"]
    assert (baseline["name"], window["name"]) == ("baseline", "window") and len(window["x"]) == 20
    newest = page.locator("#execution-table tbody tr").count()
    assert newest == min(25, len(runs))
    page.screenshot(path=str(artifacts_dir / "schedule.png"), full_page=True)
    # Click the newest window's marker: the run opens.
    box = page.evaluate("""() => {
        const div = document.getElementById('timeline');
        const points = div.querySelectorAll('.scatterlayer .trace:last-child path.point');
        const r = points[points.length - 1].getBoundingClientRect();
        return {x: r.x + r.width / 2, y: r.y + r.height / 2}; }""")
    page.mouse.move(box["x"], box["y"])
    page.mouse.click(box["x"], box["y"])
    page.wait_for_url("**/ui/runs/*")
    assert page.url.rsplit("/", 1)[1] in {r["id"] for r in runs}
    # Filter the violations by feature and check: the keyset-paged query, newest first.
    page.go_back()
    page.fill("#filter-feature", "age")
    page.select_option("#filter-check", "baseline_drift_check")
    page.click("#violation-filter button[type=submit]")
    page.wait_for_url("**feature=age**")
    rows = page.eval_on_selector_all("#violation-table tbody tr", "rows => rows.map(r => "
                                     "Array.from(r.cells).map(c => c.innerText))")
    expected = _api(served, "/api/v1/violations", schedule_id=served.dq_schedule, feature="age",
                    check_type="baseline_drift_check", limit=50)["items"]
    assert len(rows) == len(expected) > 0
    assert {(r[1], r[2]) for r in rows} == {("age", "baseline_drift_check")}
    assert [r[3] for r in rows] == [v["description"] for v in expected]
    assert page.errors == []  # type: ignore[attr-defined]


def test_focus_on_a_feature(browser: Any, served: Served) -> None:
    page = _new_page(browser)
    _sign_in(page, served, served.read_key, f"/ui/schedules/{served.dq_schedule}")
    page.click("#subjects >> text=income")
    page.wait_for_url("**focus=income**")
    charts = _charts(page)
    assert set(charts) == {"Drift distance: income", "Completeness: income", "Mean: income",
                           "Latest window against the baseline: income"}
    history = _api(served, f"/api/v1/schedules/{served.dq_schedule}/features/income/history", limit=1000)["points"]
    line, limit = charts["Completeness: income"]
    assert line["y"] == pytest.approx([p["metrics"]["completeness"] for p in history])
    assert min(line["y"]) < 1.0 and limit["y"] == [1.0, 1.0]  # every 5th hour lost values


def test_model_quality_page_draws_the_estimate_apart(browser: Any, served: Served, artifacts_dir: Path) -> None:
    page = _new_page(browser)
    _sign_in(page, served, served.read_key, f"/ui/schedules/{served.mq_schedule}")
    charts = _charts(page)
    history = _api(served, f"/api/v1/schedules/{served.mq_schedule}/model-metrics/auc/history", limit=1000)["points"]
    measured, estimated, limit = charts["auc"]
    assert len(measured["x"]) == len(estimated["x"]) == len(history) == served.windows
    assert measured["y"] == pytest.approx([p["value"] for p in history]) and measured["dash"] == "solid"
    assert estimated["y"] == pytest.approx([p["estimated"] for p in history]) and estimated["dash"] == "dash"
    assert limit["y"] == [0.75, 0.75] and limit["name"] == "LessThanThreshold 0.75"
    assert next(iter(charts)) == "auc"  # violated first
    assert "Records per window" in charts
    page.screenshot(path=str(artifacts_dir / "model-quality.png"), full_page=True)


def _newest_run(served: Served) -> dict[str, Any]:
    runs = _api(served, "/api/v1/executions", schedule_id=served.dq_schedule, limit=1000)["items"]
    return max(runs, key=lambda r: (r["window_end"], r["created_at"]))


def test_edit_a_threshold_and_the_next_run_uses_it(browser: Any, served: Served, artifacts_dir: Path) -> None:
    before = _newest_run(served)
    drifted = _api(served, "/api/v1/violations", execution_id=before["id"], feature="age",
                   check_type="baseline_drift_check")["items"]
    assert len(drifted) == 1  # the newest window drifted on age at threshold 0.1
    page = _new_page(browser)
    _sign_in(page, served, served.admin_key, f"/ui/schedules/{served.dq_schedule}")
    page.click("#baseline-link")
    page.wait_for_url(f"**/ui/baselines/{served.dq_baseline}")
    field = page.locator("[id='features.age.drift_threshold']")
    assert field.input_value() == "0.1"
    field.fill("0.9")
    page.click("#save-constraints")
    page.wait_for_url("**saved=v2")
    assert "Saved as version 2" in page.inner_text("#saved")
    assert page.locator("[id='features.age.drift_threshold']").input_value() == "0.9"
    page.screenshot(path=str(artifacts_dir / "baseline.png"), full_page=True)
    page.goto(f"{served.url}/ui/schedules/{served.dq_schedule}")
    page.click("#rerun-form button")
    page.wait_for_url("**/ui/runs/*")
    run_id = page.url.rsplit("/", 1)[1]
    assert run_id != before["id"] and "Pending" in page.inner_text("h1")
    assert served.run_pending().get(run_id) in ("Completed", "CompletedWithViolations")
    page.reload()
    assert "Pending" not in page.inner_text("h1")
    after = _api(served, f"/api/v1/executions/{run_id}")
    assert (after["window_start"], after["window_end"], after["baseline_version"]) == (
        before["window_start"], before["window_end"], 2)
    assert _api(served, "/api/v1/violations", execution_id=run_id, feature="age",
                check_type="baseline_drift_check")["items"] == []
    # The run checked against the edited constraints (its constraints.json) and its report says so.
    with served.api() as api:
        used = api.get(f"/api/v1/executions/{run_id}/artifacts/constraints.json").json()
    age = next(f for f in used["features"] if f["name"] == "age")
    assert age["monitoringConfigOverrides"]["comparison_threshold"] == 0.9
    report = page.frame_locator("#report")
    assert "(threshold 0.9)" in report.locator("#feature-age").inner_text()
    assert report.locator(".js-plotly-plot").count() == 1 + 4  # drift chart + one per feature
    page.screenshot(path=str(artifacts_dir / "run.png"), full_page=True)
    assert page.errors == []  # type: ignore[attr-defined]


def test_report_is_sandboxed_and_self_contained(browser: Any, served: Served) -> None:
    run = _newest_run(served)
    page = _new_page(browser)
    _sign_in(page, served, served.read_key, f"/ui/runs/{run['id']}")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{served.url}/ui/runs/{run['id']}/files/report.html")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length === 5")
    assert requested == [f"{served.url}/ui/runs/{run['id']}/files/report.html"]
    assert page.evaluate("window.origin") == "null"  # sandboxed: no access to the dashboard's origin
    statistics = json.loads(page.context.request.get(
        f"{served.url}/ui/runs/{run['id']}/files/statistics.json").text())
    assert {f["name"] for f in statistics["features"]} == {"age", "income", "score", "color"}


def test_read_keys_cannot_edit_and_sign_out_ends_the_session(browser: Any, served: Served) -> None:
    page = _new_page(browser)
    _sign_in(page, served, served.read_key, f"/ui/schedules/{served.dq_schedule}")
    assert page.locator("#rerun-form").count() == 0
    page.click("#baseline-link")
    assert page.locator("#save-constraints").count() == 0
    assert page.locator("[id='drift.threshold']").is_disabled()
    page.click("#sign-out")
    page.wait_for_url("**/ui/login")
    page.goto(f"{served.url}/ui/")
    assert "/ui/login" in page.url
