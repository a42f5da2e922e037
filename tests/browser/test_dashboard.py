"""The dashboard in a real headless Chromium, against `tapewatch demo`.

Runs the system's /usr/bin/chromium through /usr/bin/chromedriver (both
given by path: Selenium Manager fetches nothing) with a fresh profile, and
checks, in order, on one page:
1. it loads and its live connection comes up, with no console errors;
2. both feeds read `streaming`, and their events/s show on the cards and in
   the chart's legend;
3. alerts from the simulator appear within seconds, with their enrichment;
4. a row opens its full alert and enrichment JSON, and the page's alert
   module keeps its rules (alert_store_check.js, run in the page): bounded
   rows, enrichments before their alerts, order, filters, a rule's
   explanation, data shown as text;
5. the kind and symbol filters show only matching rows;
6. Pause turns the feeds `paused` and /ready answers 503; Resume brings them
   back to `streaming` and /ready to 200; each change is listed among the
   connection events;
7. adding a subscription shows it acknowledged, and so does removing it; one
   the provider refuses shows its message;
8. it is readable at phone width (no sideways scrolling);
9. when the service restarts, the page says `disconnected`, then reconnects
   by itself;
10. with a token required, the page asks for it once, refuses a wrong one,
    and streams with the right one.

Screenshots and logs go to BROWSER_OUT (default target/browser). Prints one
PASS/FAIL line per check and exits non-zero on any failure. Run it through
scripts/browser.
"""

import os
import sys
import tempfile
import time
import traceback

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

import page
from demo_process import DemoProcess

OUT = os.environ.get("BROWSER_OUT", "target/browser")
CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
]
# Console errors a check may expect: the browser reports a refused
# connection while the service is down, and a 401 while the token is wrong.
OUTAGE = ("ERR_CONNECTION_REFUSED", "WebSocket connection to", "ERR_CONNECTION_RESET")
REFUSED = ("status of 401",)


def chromium(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROME_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path="/usr/bin/chromedriver", log_output=os.path.join(OUT, "chromedriver.log"))
    return webdriver.Chrome(options=options, service=service)


def check_console(driver, allowed=()):
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    unexpected = [m for m in errors if not any(a in m for a in allowed)]
    assert not unexpected, f"console errors: {unexpected}"
    return len(errors)


def loads(driver, demo):
    driver.get(demo.url + "/")
    page.wait(driver, "the live connection", lambda d: page.text(d, "#conn") == "live")
    check_console(driver)
    return f"{demo.url}/ live"


def streaming(driver, _demo):
    page.wait_states(driver, "streaming", count=2)
    states = ", ".join(f"{f} {s}" for f, s in page.states(driver).items())
    # Two polls make a rate: the chart's legend and each card show events/s.
    legend = page.wait(driver, "events/s in the chart's legend", lambda d: page.rates(d, "#legend .legend-item"))
    cards = page.wait(driver, "events/s on the cards", lambda d: page.rates(d, ".feed .rate"))
    assert len(legend) == 2 and all(r > 0 for r in legend + cards), (legend, cards)
    return f"{states}; events/s {legend}"


def alerts_enriched(driver, _demo):
    rows = page.wait(driver, "an enriched alert", page.enriched_rows, timeout=30)
    described = [f"{r.find_element(By.CSS_SELECTOR, '.symbol').text}: {page.enrichment(r)}" for r in rows[:3]]
    check_console(driver)
    return f"{len(rows)} enriched, e.g. {described}"


def detail(driver, _demo):
    row = page.enriched_rows(driver)[0]
    row_id = int(row.get_attribute("data-id"))
    row.click()
    page.wait(driver, "the detail dialog", lambda d: d.find_element(By.ID, "detail").get_attribute("open") is not None)
    record = page.detail_json(driver)
    driver.find_element(By.ID, "detail-close").click()
    assert record["alert"]["id"] == row_id, record
    assert record["enrichment"]["alert_id"] == row_id, record
    assert record["enrichment"]["status"] == "ok", record
    return f"alert {row_id}: {sorted(record['alert'])[:4]}..., enrichment {record['enrichment']['status']}"


def alert_rules(driver, _demo):
    script = open(os.path.join(os.path.dirname(__file__), "alert_store_check.js"), encoding="utf-8").read()
    driver.set_script_timeout(10)
    result = driver.execute_async_script(script)
    assert not result["failures"], result["failures"]
    check_console(driver)
    return "bounded rows, early enrichments, order, filters, rule and explanation, text only"


def filters(driver, _demo):
    first = page.rows(driver)[0]
    kind = first.get_attribute("data-kind")
    symbol = first.find_element(By.CSS_SELECTOR, ".symbol").text
    Select(driver.find_element(By.ID, "filter-kind")).select_by_value(kind)
    page.wait(driver, f"only {kind} rows", lambda d: page.rows(d) and {r.get_attribute("data-kind") for r in page.rows(d)} == {kind})
    Select(driver.find_element(By.ID, "filter-kind")).select_by_value("")
    box = driver.find_element(By.ID, "filter-symbol")
    box.send_keys(symbol)
    page.wait(driver, f"only {symbol} rows", lambda d: page.rows(d) and all(symbol in r.text for r in page.rows(d)))
    shown = len(page.rows(driver))
    box.clear()
    box.send_keys(" ")  # `clear` fires no input event; a blank filter shows all
    page.wait(driver, "every row again", lambda d: len(page.rows(d)) >= shown)
    return f"kind {kind}, symbol {symbol}: {shown} rows"


def pause_resume(driver, demo):
    enabled = lambda d, button: d.find_element(By.ID, button).is_enabled()
    assert enabled(driver, "pause") and not enabled(driver, "resume"), "only Pause while streaming"
    driver.find_element(By.ID, "pause").click()
    page.wait_states(driver, "paused", count=2)
    page.wait(driver, "only Resume while paused", lambda d: enabled(d, "resume") and not enabled(d, "pause"))
    logged = lambda state: lambda d: {e.get_attribute("data-feed") for e in d.find_elements(By.CSS_SELECTOR, f'#events li[data-state="{state}"]')}
    page.wait(driver, "both pauses in the connection events", lambda d: logged("paused")(d) == {"stocks", "options"})
    assert demo.get("/ready") == 503, "/ready while paused"
    assert page.text(driver, "#readiness") == "paused"
    driver.find_element(By.ID, "resume").click()
    page.wait_states(driver, "streaming", count=2)
    page.wait(driver, "/ready 200", lambda _: demo.get("/ready") == 200)
    page.wait(driver, "both reconnections in the connection events", lambda d: logged("reconnected")(d) | logged("connected")(d) == {"stocks", "options"})
    check_console(driver)
    return "paused → /ready 503 → streaming → /ready 200"


def subscription(driver, _demo):
    Select(driver.find_element(By.ID, "sub-feed")).select_by_value("stocks")
    driver.find_element(By.ID, "sub-topics").send_keys("T.AAPL")
    driver.find_element(By.ID, "sub-add").click()
    added = page.wait(driver, "the acknowledgement", lambda d: page.text(d, "#sub-result").startswith("subscribe: acknowledged") and page.text(d, "#sub-result"))
    page.wait(driver, "T.AAPL listed", lambda d: "T.AAPL" in page.topics(d, "stocks"))
    full_page_screenshot(driver, "dashboard.png")
    driver.find_element(By.CSS_SELECTOR, '.feed[data-feed="stocks"] button[data-topic="T.AAPL"]').click()
    page.wait(driver, "the removal's acknowledgement", lambda d: page.text(d, "#sub-result").startswith("unsubscribe: acknowledged"))
    page.wait(driver, "T.AAPL gone", lambda d: "T.AAPL" not in page.topics(d, "stocks"))
    # The provider's refusal is shown with its message, and nothing is listed.
    Select(driver.find_element(By.ID, "sub-feed")).select_by_value("options")
    topics = driver.find_element(By.ID, "sub-topics")
    topics.clear()
    topics.send_keys("Q.*")
    driver.find_element(By.ID, "sub-add").click()
    refused = page.wait(driver, "the refusal", lambda d: page.text(d, "#sub-result").startswith("subscribe: rejected") and page.text(d, "#sub-result"))
    assert "not allowed for option quotes" in refused, refused
    assert "Q.*" not in page.topics(driver, "options")
    # The browser logs the 502 answer itself as a failed resource.
    check_console(driver, allowed=("status of 502",))
    return f"{added}; then {refused}"


def full_page_screenshot(driver, name):
    """The whole page from the top at laptop width, then the window as it was."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height + 140, 1000), 4000))
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(os.path.join(OUT, name))
    driver.set_window_size(1280, 1000)


def phone(driver, _demo):
    driver.set_window_size(390, 844)
    try:
        width = lambda d: d.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        page.wait(driver, "no sideways scrolling", lambda d: width(d)[0] <= width(d)[1])
        driver.save_screenshot(os.path.join(OUT, "dashboard-phone.png"))
        return f"scroll width {width(driver)[0]} within {width(driver)[1]} px"
    finally:
        driver.set_window_size(1280, 1000)


def restart(driver, demo):
    port = int(demo.url.rsplit(":", 1)[1])
    demo.stop()
    page.wait(driver, "`disconnected`", lambda d: page.text(d, "#conn") == "disconnected")
    with DemoProcess(os.path.join(OUT, "demo-restarted.log"), port=port) as again:
        page.wait(driver, "the reconnection", lambda d: page.text(d, "#conn") == "live", timeout=30)
        page.wait_states(driver, "streaming", count=2)
        # Leave the page before this service stops, so its refused
        # reconnections are not blamed on the next check.
        driver.get("about:blank")
        outage = check_console(driver, allowed=OUTAGE)
        return f"disconnected, then live again on {again.url} ({outage} refused connections logged)"


def token(driver, _demo):
    secret = "dashboard-test/token+1"
    with DemoProcess(os.path.join(OUT, "demo-token.log"), token=secret) as guarded:
        assert guarded.get("/feeds") == 401 and guarded.get("/feeds", secret) == 200
        driver.get(guarded.url + "/")
        page.wait(driver, "the token dialog", lambda d: d.find_element(By.ID, "login").get_attribute("open") is not None)
        box = driver.find_element(By.ID, "login-token")
        submit = driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]")
        box.send_keys("wrong")
        submit.click()
        page.wait(driver, "the refusal", lambda d: "refused" in page.text(d, "#login-error"))
        box.clear()
        box.send_keys(secret)
        submit.click()
        page.wait(driver, "the live connection", lambda d: page.text(d, "#conn") == "live")
        page.wait_states(driver, "streaming", count=2)
        refused = check_console(driver, allowed=REFUSED)
        return f"asked once, wrong token refused ({refused} 401s logged), right one streams"


CHECKS = [loads, streaming, alerts_enriched, detail, alert_rules, filters, pause_resume, subscription, phone, restart, token]


def main():
    os.makedirs(OUT, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="tapewatch-chromium-") as profile:
        driver = chromium(profile)
        try:
            with DemoProcess(os.path.join(OUT, "demo.log")) as demo:
                for check in CHECKS:
                    started = time.monotonic()
                    try:
                        detail_text = check(driver, demo)
                        results.append((check.__name__, True))
                    except Exception as error:  # noqa: BLE001 - every failure is reported
                        detail_text = f"{type(error).__name__}: {error}"
                        if not isinstance(error, AssertionError):
                            detail_text += "\n" + traceback.format_exc()
                        results.append((check.__name__, False))
                        driver.save_screenshot(os.path.join(OUT, f"failed-{check.__name__}.png"))
                    ok = results[-1][1]
                    print(f"{'PASS' if ok else 'FAIL'} {check.__name__} ({time.monotonic() - started:.1f} s): {detail_text}", flush=True)
        finally:
            driver.quit()
    failed = sum(1 for _, ok in results if not ok)
    print(f"{len(results) - failed} passed, {failed} failed; screenshots in {OUT}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
