"""The status page of `dexter watch --serve` (GET /): `dexter emulator` and `dexter watch` run
as processes; the page is opened in real headless Chromium (Debian's package, driven by
Playwright), and drift and events appear on it without a reload, every value as text.

A screenshot is saved as a test artifact (DEXTER_TEST_ARTIFACTS, default test-artifacts/).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers_watch import (
    Emulator,
    poll,
    served_emulator,
    watching,
    write_manifests,
)

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    return write_manifests(tmp_path / "sentry")


@pytest.fixture
def applied(tmp_path: Path, manifests: Path) -> Iterator[Emulator]:
    with served_emulator(tmp_path, manifests) as emu:
        result = emu.dexter("apply", str(manifests), "--auto-approve")
        assert result.returncode == 0, result.stdout + result.stderr
        yield emu


def send_exception(emu: Emulator, message: str) -> None:
    """A real sentry-sdk client sends one exception to the emulator's DSN."""
    import sentry_sdk
    from sentry_sdk.utils import event_from_exception

    dsn = emu.api.get("projects/acme/backend/keys/").json()[0]["dsn"]["public"]
    sdk = sentry_sdk.Client(dsn=dsn, default_integrations=False)
    try:
        raise RuntimeError(message)
    except RuntimeError:
        event, hint = event_from_exception(sys.exc_info(), client_options=sdk.options)
        sdk.capture_event(event, hint=hint, scope=sentry_sdk.Scope(client=sdk))
    sdk.flush(timeout=10)
    sdk.close()


def rename_in_the_ui(emu: Emulator) -> None:
    rule = emu.rule_named("backend errors")
    emu.oob("metric_rule", "update", id=int(rule["id"]), fields={"name": "renamed in the UI"})


def browser_or_skip() -> Any:
    """Playwright's sync API, or a loud skip on a developer machine without a browser;
    under CI (CI=true) a missing browser is a failure."""
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("the playwright package (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if missing:
        reason = "STATUS PAGE BROWSER TEST NOT RUN: missing " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return sync_playwright


def artifact(name: str) -> Path:
    folder = Path(os.environ.get("DEXTER_TEST_ARTIFACTS", REPO / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def test_the_page_in_a_browser_follows_drift_and_events_and_escapes_values(
        applied: Emulator, manifests: Path) -> None:
    sync_playwright = browser_or_skip()
    with watching(applied, manifests) as daemon, sync_playwright() as playwright:
        daemon.wait_started()
        assert daemon.url is not None
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(daemon.url + "/")
            assert page.title() == "dexter watch: acme"
            assert page.locator("#no-drift").is_visible()
            page.wait_for_function("document.getElementById('stream-state')"
                                   ".textContent === 'live'", timeout=30_000)

            rename_in_the_ui(applied)  # out of band: the declared rule is gone
            row = page.locator('#drift-rows tr[data-address="metric_alert/backend errors"]')
            row.wait_for(timeout=30_000)  # no reload: the page follows /events
            assert "create" in row.inner_text()
            assert "alerts.yaml:2:5" in row.inner_text()
            assert page.locator("#drift-count").inner_text() == "1"

            send_exception(applied, HOSTILE)
            item = page.locator('#feed li[data-type="issue.new"]')
            item.first.wait_for(timeout=30_000)
            assert HOSTILE in item.first.inner_text()  # shown as text
            assert page.evaluate("window.__pwned") is None  # never run
            assert page.locator("#feed script, #feed img").count() == 0
            assert dialogs == []

            page.select_option("#feed-filter", "drift.detected")
            assert not item.first.is_visible()
            assert page.locator('#feed li[data-type="drift.detected"]').first.is_visible()
            page.screenshot(path=str(artifact("status-page.png")), full_page=True)

            page.reload()  # the server-rendered page escapes the same values
            assert HOSTILE in page.locator("#feed").inner_text()
            assert page.evaluate("window.__pwned") is None
            assert page.locator(
                '#drift-rows tr[data-address="metric_alert/backend errors"]').count() == 1
        finally:
            browser.close()
        assert daemon.stop() == 0


def test_the_page_is_protected_like_the_stream(applied: Emulator, manifests: Path) -> None:
    with watching(applied, manifests, env={"DEXTER_WATCH_TOKEN": "s3cret-page"}) as daemon:
        daemon.wait_started()
        base = daemon.url
        assert base is not None and base.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/").status_code == 401
            assert client.get("/status.json").status_code == 401
            assert client.get("/?token=wrong").status_code == 401
            assert client.get("/", headers={"Authorization": "Bearer s3cret-page"}
                              ).status_code == 200
            entry = client.get("/?token=s3cret-page")
            assert (entry.status_code, entry.headers["location"]) == (303, "/")
            assert "HttpOnly" in entry.headers["set-cookie"]
            assert "samesite=strict" in entry.headers["set-cookie"].lower()
            page = client.get("/")  # the cookie now opens the page and its status
            assert page.status_code == 200
            assert "s3cret-page" not in page.text
            policy = page.headers["content-security-policy"]
            nonce = re.search(r"'nonce-([^']+)'", policy)
            assert nonce and f'<script nonce="{nonce.group(1)}">' in page.text
            assert client.get("/status.json").json()["organization"] == "acme"
        assert daemon.stop() == 0


def test_release_health_shows_each_projects_latest_release_with_its_verdict(
        applied: Emulator, manifests: Path) -> None:
    for version in ("shop@1.0.0", "shop@2.0.0"):  # created in this order: 2.0.0 is the latest
        applied.api.post("organizations/acme/releases/", json={
            "version": version, "projects": ["backend"]}).raise_for_status()
    generated = applied.admin.post("events/generate/", json={
        "count": 4000, "projects": ["backend"], "seed": 7, "period_s": 3600,
        "releases": [{"version": "shop@1.0.0", "error_rate": 0.05},
                     {"version": "shop@2.0.0", "error_rate": 0.15}]})
    generated.raise_for_status()
    sent = generated.json()["releases"]
    with watching(applied, manifests) as daemon:
        daemon.wait_started()
        assert daemon.url is not None
        html = httpx.get(daemon.url + "/", timeout=60).text
    table = html[html.index('<table id="health">'):]
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    cells = [[re.sub(r"<[^>]+>", "", c).strip()
              for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)]
             for row in rows]
    latest, previous = sent["shop@2.0.0"], sent["shop@1.0.0"]
    assert cells[0][:5] == ["backend", "shop@2.0.0", str(latest["events"]),
                            str(latest["errors"]),
                            f"{latest['errors'] / latest['events'] * 100:.2f}%"]
    assert cells[0][5] == "regression"  # three times the error rate, thousands of events
    assert cells[1][:4] == ["shop@1.0.0", str(previous["events"]), str(previous["errors"]),
                            f"{previous['errors'] / previous['events'] * 100:.2f}%"]
    assert cells[1][4] == ""  # the base of the comparison has no verdict of its own


def test_no_browser_needed_to_read_the_page_as_text(applied: Emulator,
                                                    manifests: Path) -> None:
    """The server-rendered page alone (no script) already says everything: a browser
    without JavaScript, or a terminal, can read it."""
    with watching(applied, manifests) as daemon:
        daemon.wait_started()
        rename_in_the_ui(applied)
        daemon.wait_for(lambda e: e["type"] == "drift.detected", what="drift.detected")
        assert daemon.url is not None
        html = httpx.get(daemon.url + "/", timeout=30).text
        assert 'data-address="metric_alert/backend errors"' in html
        assert "Drift (<span id=\"drift-count\">1</span>)" in html
        assert daemon.stop() == 0
