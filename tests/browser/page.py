"""What the browser test reads off the dashboard page, and waiting for it."""

import json
import re

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

DEFAULT_TIMEOUT_S = 20


def wait(driver, what, condition, timeout=DEFAULT_TIMEOUT_S):
    """Polls `condition(driver)` until it is truthy (and returns it) or fails
    naming `what`. The page redraws often, so an element that goes stale
    while it is read only means "not yet"."""

    def attempt(d):
        try:
            return condition(d)
        except StaleElementReferenceException:
            return False

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(attempt, message=f"waited {timeout} s for {what}")


def text(driver, selector):
    return driver.find_element(By.CSS_SELECTOR, selector).text.strip()


def states(driver):
    """Feed name → the state its card shows."""
    return {
        card.get_attribute("data-feed"): card.find_element(By.CSS_SELECTOR, ".state").text.strip()
        for card in driver.find_elements(By.CSS_SELECTOR, ".feed[data-feed]")
    }


def wait_states(driver, state, count, timeout=DEFAULT_TIMEOUT_S):
    def all_in_state(d):
        shown = states(d)
        return len(shown) == count and set(shown.values()) == {state}

    wait(driver, f"{count} feeds `{state}`", all_in_state, timeout)


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#alerts tbody tr.alert")


def enrichment(row):
    return row.find_element(By.CSS_SELECTOR, ".enrichment").text.strip()


def enriched_rows(driver):
    """Rows whose enrichment arrived and succeeded."""
    done = []
    for row in rows(driver):
        shown = enrichment(row)
        if shown and shown != "…" and not shown.startswith(("failed", "skipped", "timeout")):
            done.append(row)
    return done


def detail_json(driver):
    return json.loads(driver.find_element(By.ID, "detail-json").text)


def topics(driver, feed):
    card = driver.find_element(By.CSS_SELECTOR, f'.feed[data-feed="{feed}"]')
    return [c.text for c in card.find_elements(By.CSS_SELECTOR, ".topics code")]


def rates(driver, selector):
    """The events/s numbers shown by the elements at `selector` (`1,143` or
    `stocks 1,143/s`), or None while any of them shows none yet (`–`)."""
    shown = []
    for node in driver.find_elements(By.CSS_SELECTOR, selector):
        match = re.search(r"([\d,]+)(?:/s)?$", node.text.strip())
        if not match:
            return None
        shown.append(int(match.group(1).replace(",", "")))
    return shown or None
