"""The web page end to end in headless Chromium, and Lighthouse's audit of it.

Each feature's view is kept as screenshots at a desktop and a phone width in
.artifacts/web/ (``shoot``), which also checks that nothing is wider than the screen."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve_app.api.schemas import ComponentHealth, HealthResponse

pytestmark = [pytest.mark.serve, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts" / "web"
WIDTHS = ((1280, 900, False), (390, 844, True))  # desktop; a phone (mobile viewport)
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# The elements that reach past the screen's right edge, for the message of a failure.
OVERFLOWING = (
    "return [...document.querySelectorAll('body *')]"
    ".filter((e) => e.getBoundingClientRect().right > arguments[0])"
    ".slice(0, 5).map((e) => e.tagName + '#' + e.id + '.' + e.className)"
)
LIGHTHOUSE = ROOT / "tests" / "web" / "node_modules" / ".bin" / "lighthouse"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("chromium and chromedriver are needed (.ci/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, "--window-size=1280,1000", f"--user-data-dir={tmp_path}/p"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        yield session
    finally:
        session.quit()


def open_page(driver: Any, base_url: str, query: str = "") -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base_url}/{query}")
    WebDriverWait(driver, 60).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-languages") == "202"
    )


def shoot(driver: Any, name: str) -> None:
    """Screenshots of the view at each of ``WIDTHS``; at each, the page fits the screen."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        for width, height, mobile in WIDTHS:
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
            )
            path = ARTIFACTS / f"{name}-{width}.png"
            driver.save_screenshot(str(path))
            assert path.stat().st_size > 5_000
            wide = driver.execute_script("return document.documentElement.scrollWidth")
            if wide > width:
                past = driver.execute_script(OVERFLOWING, width)
                raise AssertionError(f"{name}: {wide} px wide on a {width} px screen: {past}")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def text_of(driver: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.ID, element_id).text)


def swahili_french_glossary(base_url: str, name: str, source: str, target: str) -> Any:
    """A one-term Swahili-French glossary made through the API (the page lists it)."""
    return httpx.post(
        base_url + "/api/v1/glossaries",
        json={
            "name": name,
            "source_language": "sw",
            "target_language": "fr",
            "entries": [{"source": source, "target": target}],
        },
        timeout=30,
    ).json()


def test_translate_detect_and_workflow_in_the_browser(browser: Any, base_url: str) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 60)
    driver.get(base_url + "/")
    wait.until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-languages") == "202"
    )
    assert len(Select(driver.find_element(By.ID, "target")).options) == 202

    text = driver.find_element(By.ID, "text")
    text.clear()
    text.send_keys("Mimi ni mwalimu wa shule ya msingi katika kijiji chetu")
    Select(driver.find_element(By.ID, "target")).select_by_value("fra_Latn")
    driver.find_element(By.ID, "translate").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "Mimi ni mwalimu"))
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "detected"))
    assert "swh_Latn" in driver.find_element(By.ID, "translate-meta").text

    # A second target: one request, both translations shown, keyed by target.
    Select(driver.find_element(By.ID, "also")).select_by_value("deu_Latn")
    driver.find_element(By.ID, "translate").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "deu_Latn: Mimi ni mwalimu"))
    assert "fra_Latn: Mimi ni mwalimu" in driver.find_element(By.ID, "result").text
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "fra_Latn, deu_Latn"))
    # Each target's quality is shown with its flags (the copy model did not translate).
    meta = driver.find_element(By.ID, "translate-meta").text
    assert "quality fra_Latn 0.25 ⚑ untranslated, wrong language; deu_Latn 0.25" in meta, meta

    driver.find_element(By.ID, "detect").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "Detected: Swahili"))
    # The runners-up, with their confidences on the same scale.
    meta = driver.find_element(By.ID, "translate-meta").text
    assert re.search(r"other candidates: \w[^%]* \d+%", meta), meta

    driver.find_element(By.ID, "tab-workflow").click()
    driver.find_element(By.ID, "plan").click()
    wait.until(lambda d: d.find_element(By.ID, "workflow-status").get_attribute("data-final"))
    status = driver.find_element(By.ID, "workflow-status")
    assert status.get_attribute("data-final") == "done"
    rows = driver.find_elements(By.CSS_SELECTOR, "#tasks tbody tr")
    assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows] == ["done", "done"]
    assert "eda_agent" in driver.find_element(By.ID, "dsl").text
    chart = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#tasks img"))
    wait.until(lambda d: d.execute_script("return arguments[0].naturalWidth", chart) > 100)

    shoot(driver, "workflow")
    driver.find_element(By.ID, "tab-text").click()

    # HTML mode: the markup comes back as text on the page (shown, never rendered), and the
    # service is told it is HTML (markup it refuses is refused, with the reason shown).
    box = driver.find_element(By.ID, "text")
    box.clear()
    box.send_keys("<p>Habari <b>rafiki</b> {name}!</p>")
    driver.find_element(By.ID, "html").click()
    driver.find_element(By.ID, "translate").click()
    wait.until(
        ec.text_to_be_present_in_element((By.ID, "result"), "<p>Habari <b>rafiki</b> {name}!</p>")
    )
    driver.execute_script("document.getElementById('text').value = '<div>'.repeat(300) + 'Habari'")
    driver.find_element(By.ID, "translate").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "nested deeper"))

    # A glossary made through the API appears in the picker once the page loads, and is
    # applied, each term's fate shown.
    made = swahili_french_glossary(base_url, "web terms", "rafiki", "ami")
    driver.get(base_url + "/")
    wait.until(
        lambda d: (
            int(d.find_element(By.TAG_NAME, "body").get_attribute("data-glossaries") or 0) >= 1
        )
    )
    Select(driver.find_element(By.ID, "glossary")).select_by_value(made["id"])
    Select(driver.find_element(By.ID, "source")).select_by_value("swh_Latn")
    Select(driver.find_element(By.ID, "target")).select_by_value("fra_Latn")
    box = driver.find_element(By.ID, "text")
    box.clear()
    box.send_keys("Habari rafiki yangu.")
    driver.find_element(By.ID, "translate").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "Habari ami yangu."))
    wait.until(
        ec.text_to_be_present_in_element((By.ID, "translate-meta"), "glossary: rafiki → ami ✓")
    )

    # Corrections (enabled in the test app): edit the translation, save it, and the same
    # text is answered with it, marked as the user's correction.
    Select(driver.find_element(By.ID, "glossary")).select_by_value("")
    box = driver.find_element(By.ID, "text")
    box.clear()
    box.send_keys("Tutaonana kesho asubuhi.")
    driver.find_element(By.ID, "translate").click()
    # The answer first: the correction row is visible since the last translation already,
    # and a correction saved before this answer came would be of the previous text (the
    # page's last translation), which once made the check below fail under load.
    wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "Tutaonana kesho asubuhi."))
    wait.until(ec.visibility_of_element_located((By.ID, "better")))
    better = driver.find_element(By.ID, "better")
    better.clear()
    better.send_keys("À demain matin.")
    driver.find_element(By.ID, "suggest").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "Correction saved"))
    driver.find_element(By.ID, "translate").click()
    # Should the correction not be served, say what the page showed.
    try:
        wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "À demain matin."))
    except TimeoutException:
        shown = {
            name: driver.find_element(By.ID, name).text for name in ("result", "translate-meta")
        }
        raise AssertionError(f"the correction was not served: {shown}") from None
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "your correction"))


def test_stream_and_document_in_the_browser(browser: Any, base_url: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    from serve_app.documents.formats import segments
    from tests.document_files import make_docx

    driver = browser
    wait = WebDriverWait(driver, 60)
    driver.get(base_url + "/")
    wait.until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-languages") == "202"
    )
    Select(driver.find_element(By.ID, "target")).select_by_value("fra_Latn")
    Select(driver.find_element(By.ID, "source")).select_by_value("eng_Latn")
    text = "First sentence here. A second one! And the third?"
    box = driver.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    driver.find_element(By.ID, "stream").click()
    wait.until(lambda d: d.find_element(By.ID, "result").get_attribute("data-streamed") == "3")
    assert driver.find_element(By.ID, "result").text == text
    assert "streamed 3 sentences" in driver.find_element(By.ID, "translate-meta").text

    driver.find_element(By.ID, "tab-files").click()
    report = tmp_path / "report.docx"
    report.write_bytes(make_docx())
    driver.find_element(By.ID, "document").send_keys(str(report))
    driver.find_element(By.ID, "upload").click()
    wait.until(ec.visibility_of_element_located((By.ID, "download")))
    link = driver.find_element(By.ID, "download")
    assert link.get_attribute("download") == "report.fra.docx"
    assert "sentences" in driver.find_element(By.ID, "document-status").text
    # The progress bar ran to its end; the button names the file it downloads.
    progress = driver.find_element(By.ID, "document-progress")
    assert progress.is_displayed()
    assert progress.get_attribute("value") == "100"
    assert link.text == "Download report.fra.docx"
    shoot(driver, "document")
    # The integrity report, under the link: the copy model's "translation" is the source,
    # which the page cannot let pass unseen.
    table = driver.find_element(By.ID, "document-report")
    assert table.is_displayed()
    assert table.get_attribute("data-translated") == "0"
    assert "Integrity report" in table.text
    assert "Segments" in table.text
    warnings = driver.find_element(By.ID, "document-warnings")
    assert "no segment was translated" in warnings.text
    translated = httpx.get(str(link.get_attribute("href")), timeout=30)
    assert translated.status_code == 200
    assert segments(translated.content, "docx") == segments(report.read_bytes(), "docx")


def test_swap_copy_counter_and_shortcut(browser: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 60)
    # A glossary, so that the translation differs from the text (the copy model echoes).
    made = swahili_french_glossary(base_url, "swap terms", "mwalimu", "professeur")
    open_page(driver, base_url, "?source=swh_Latn&target=fra_Latn")
    assert Select(driver.find_element(By.ID, "source")).first_selected_option.get_attribute(
        "value"
    ) == ("swh_Latn")
    Select(driver.find_element(By.ID, "glossary")).select_by_value(made["id"])

    # The counter counts as one types, against the server's limit (5000 in the test app),
    # which the box enforces.
    box = driver.find_element(By.ID, "text")
    assert box.get_attribute("maxlength") == "5000"
    box.clear()
    box.send_keys("Mimi ni mwalimu")
    assert text_of(driver, "counter") == "15 / 5,000"
    # Ctrl+Enter translates.
    box.send_keys(Keys.CONTROL, Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "Mimi ni professeur"))

    # Copy: the translation is on the clipboard.
    driver.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": base_url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    driver.find_element(By.ID, "copy").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "copy-status"), "Copied"))
    pasted = driver.execute_async_script(
        "navigator.clipboard.readText().then(arguments[0], (e) => arguments[0]('ERR ' + e))"
    )
    assert pasted == "Mimi ni professeur"
    shoot(driver, "translate")

    # Swap: the languages change places, the translation becomes the text to translate
    # and the text is shown as its translation; the URL follows.
    driver.find_element(By.ID, "swap").click()
    assert driver.find_element(By.ID, "source").get_attribute("value") == "fra_Latn"
    assert driver.find_element(By.ID, "target").get_attribute("value") == "swh_Latn"
    assert box.get_attribute("value") == "Mimi ni professeur"
    assert text_of(driver, "result") == "Mimi ni mwalimu"
    assert text_of(driver, "counter") == "18 / 5,000"
    assert "source=fra_Latn" in driver.current_url
    assert "target=swh_Latn" in driver.current_url

    # With Auto-detect, swap takes the language the service detected.
    Select(driver.find_element(By.ID, "source")).select_by_value("")
    Select(driver.find_element(By.ID, "target")).select_by_value("fra_Latn")
    Select(driver.find_element(By.ID, "glossary")).select_by_value("")
    box.clear()
    box.send_keys("Mimi ni mwalimu wa shule ya msingi katika kijiji chetu")
    driver.find_element(By.ID, "translate").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "detected"))
    # Its candidates and whether it is reliable, each candidate a button to pick it.
    wait.until(ec.visibility_of_element_located((By.ID, "detection")))
    detection = driver.find_element(By.ID, "detection")
    assert "Detected Swahili (swh_Latn)" in detection.text
    assert detection.get_attribute("data-reliable") in ("true", "false")
    assert ("unreliable" in detection.text) == (detection.get_attribute("data-reliable") == "false")
    picks = detection.find_elements(By.CSS_SELECTOR, "button[data-language]")
    assert picks
    assert picks[0].get_attribute("data-language") == "swh_Latn"
    driver.find_element(By.ID, "swap").click()
    assert driver.find_element(By.ID, "source").get_attribute("value") == "fra_Latn"
    assert driver.find_element(By.ID, "target").get_attribute("value") == "swh_Latn"
    assert console_errors(driver) == []


def test_an_api_key_goes_with_every_request(browser: Any, base_url: str) -> None:
    """Where the server has auth on, the page is usable with a key: given once, it is sent
    as a bearer token with every API call (the translated file's download too), kept for the
    tab only; a 401 opens the key's field."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 60)
    open_page(driver, base_url, "?source=swh_Latn&target=fra_Latn")
    record = """
        window.sent = [];
        const original = window.fetch;
        window.fetch = (url, init) => {
          const headers = (init && init.headers) || {};
          window.sent.push([String(url), headers.Authorization || null]);
          return original(url, init);
        };
    """
    driver.execute_script(record)
    driver.find_element(By.TAG_NAME, "summary").click()
    key = driver.find_element(By.ID, "api-key")
    key.send_keys("tfs-test-key")
    driver.find_element(By.ID, "text").send_keys("Habari ya asubuhi")  # leaves the key field
    driver.find_element(By.ID, "translate").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "Habari ya asubuhi"))
    sent = driver.execute_script("return window.sent")
    api_calls = [(url, auth) for url, auth in sent if "/api/" in url]
    assert api_calls, sent
    assert all(auth == "Bearer tfs-test-key" for _, auth in api_calls), api_calls
    # Kept for this tab: a reload keeps it, and it is in no storage that outlives the tab.
    open_page(driver, base_url)
    assert driver.find_element(By.ID, "api-key").get_attribute("value") == "tfs-test-key"
    assert driver.execute_script("return localStorage.length") == 0
    # A 401 (a wrong key) opens the field, with the API's message shown.
    driver.execute_script(
        """
        window.fetch = async () => new Response(
          JSON.stringify({detail: "Invalid or missing API key", errors: []}),
          {status: 401, headers: {"Content-Type": "application/json"}});
        """
    )
    assert driver.find_element(By.ID, "key-settings").get_attribute("open") is None
    driver.find_element(By.ID, "text").send_keys("Habari")
    driver.find_element(By.ID, "translate").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "Invalid or missing"))
    assert driver.find_element(By.ID, "key-settings").get_attribute("open") is not None
    driver.execute_script("sessionStorage.clear()")


def test_searchable_pickers_several_targets_and_the_url(browser: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 60)
    open_page(driver, base_url)
    search = driver.find_element(By.ID, "target-search")
    visible = "return [...arguments[0].options].filter((o) => !o.hidden).length"
    # By native name, by English name, by ISO 639-1 and by FLORES-200 code.
    for query, code in (
        ("Deutsch", "deu_Latn"),
        ("span", "spa_Latn"),
        ("sw", "swh_Latn"),
        ("ita_Latn", "ita_Latn"),
    ):
        search.clear()
        search.send_keys(query)
        target = driver.find_element(By.ID, "target")
        assert target.get_attribute("value") == code, query
        assert 1 <= driver.execute_script(visible, target) < 202, query
    search.clear()
    driver.find_element(By.ID, "source-search").send_keys("Kiswahili")
    assert driver.find_element(By.ID, "source").get_attribute("value") == "swh_Latn"
    shoot(driver, "pickers")

    # Several targets: three in one request, each answer labelled by its target.
    Select(driver.find_element(By.ID, "target")).select_by_value("deu_Latn")
    Select(driver.find_element(By.ID, "also")).select_by_value("spa_Latn")
    driver.find_element(By.ID, "add-target").click()
    Select(driver.find_element(By.ID, "also-2")).select_by_value("ita_Latn")
    assert "target=deu_Latn%2Cspa_Latn%2Cita_Latn" in driver.current_url
    assert "source=swh_Latn" in driver.current_url
    driver.find_element(By.ID, "translate").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "ita_Latn: Habari"))
    items = driver.find_elements(By.CSS_SELECTOR, "#result .item")
    assert [i.get_attribute("lang") for i in items] == ["de", "es", "it"]
    badges = driver.find_elements(By.CSS_SELECTOR, "#quality li")
    assert [b.text.split(":")[0] for b in badges] == ["German", "Spanish", "Italian"]
    assert all("untranslated" in b.text for b in badges)

    # The mode is in the URL too; the link reproduces the view.
    driver.find_element(By.ID, "tab-files").click()
    assert "mode=files" in driver.current_url
    link = driver.current_url
    driver.get("about:blank")
    open_page(driver, base_url, "?" + link.split("?", 1)[1])
    assert driver.find_element(By.ID, "source").get_attribute("value") == "swh_Latn"
    chosen = [
        driver.find_element(By.ID, name).get_attribute("value")
        for name in ("target", "also", "also-2")
    ]
    assert chosen == ["deu_Latn", "spa_Latn", "ita_Latn"]
    assert driver.find_element(By.ID, "panel-files").is_displayed()
    assert not driver.find_element(By.ID, "panel-text").is_displayed()
    assert driver.find_element(By.ID, "tab-files").get_attribute("aria-selected") == "true"
    # ISO codes in a hand-written link are understood.
    open_page(driver, base_url, "?source=fr&target=sw&mode=workflow")
    assert driver.find_element(By.ID, "source").get_attribute("value") == "fra_Latn"
    assert driver.find_element(By.ID, "target").get_attribute("value") == "swh_Latn"
    assert driver.find_element(By.ID, "panel-workflow").is_displayed()
    assert console_errors(driver) == []


def test_errors_are_the_api_message(browser: Any, base_url: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 60)
    open_page(driver, base_url, "?source=swh_Latn&target=fra_Latn")
    # A text over the server's limit (set where maxlength does not apply, as a script could):
    # the counter says so, and the API's own message is shown, not a blank result.
    long = "a" * 5001
    driver.execute_script(
        "const box = document.getElementById('text'); box.value = arguments[0];"
        "box.dispatchEvent(new Event('input'));",
        long,
    )
    assert "over" in str(driver.find_element(By.ID, "counter").get_attribute("class"))
    api = httpx.post(
        base_url + "/api/v1/translate",
        json={"text": long, "source_language": "swh_Latn", "target_language": "fra_Latn"},
        timeout=30,
    )
    assert api.status_code == 413
    driver.find_element(By.ID, "translate").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "Text too long"))
    assert text_of(driver, "translate-meta") == api.json()["detail"]
    assert "error" in str(driver.find_element(By.ID, "translate-meta").get_attribute("class"))
    assert driver.find_element(By.ID, "result").get_attribute("data-error") == "true"
    shoot(driver, "error")

    # A file of a type the service does not read: its 415 message.
    odd = tmp_path / "notes.exe"
    odd.write_bytes(b"MZ\x00\x00 not a document")
    with odd.open("rb") as handle:
        refused = httpx.post(
            base_url + "/api/v1/documents",
            files={"file": (odd.name, handle)},
            data={"target_language": "fra_Latn"},
            timeout=30,
        )
    assert refused.status_code == 415
    driver.find_element(By.ID, "tab-files").click()
    driver.find_element(By.ID, "document").send_keys(str(odd))
    driver.find_element(By.ID, "upload").click()
    wait.until(
        lambda d: "error" in str(d.find_element(By.ID, "document-status").get_attribute("class"))
    )
    assert text_of(driver, "document-status").startswith(refused.json()["detail"])
    assert driver.find_element(By.ID, "download").is_displayed() is False

    # A glossary the service refuses (no term in the CSV): its message where it was made.
    driver.find_element(By.ID, "new-glossary").click()
    driver.find_element(By.ID, "glossary-name").send_keys("empty")
    driver.find_element(By.ID, "glossary-csv").send_keys("source,target")
    answer = httpx.post(
        base_url + "/api/v1/glossaries",
        json={
            "name": "empty",
            "entries_csv": "source,target",
            "source_language": "swh_Latn",
            "target_language": "fra_Latn",
        },
        timeout=30,
    )
    assert answer.status_code >= 400
    driver.find_element(By.ID, "create-glossary").click()
    wait.until(
        lambda d: "error" in str(d.find_element(By.ID, "options-status").get_attribute("class"))
    )
    assert text_of(driver, "options-status").startswith(answer.json()["detail"])


def test_glossary_from_csv_and_a_memory_in_the_browser(
    browser: Any, base_url: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 60)
    open_page(driver, base_url, "?source=swh_Latn&target=fra_Latn")
    # A glossary from a CSV file, in the languages picked: made, picked and applied.
    csv = tmp_path / "terms.csv"
    csv.write_text("source,target\nkijiji,village\n", "utf-8")
    driver.find_element(By.ID, "new-glossary").click()
    driver.find_element(By.ID, "glossary-name").send_keys("village terms")
    driver.find_element(By.ID, "glossary-file").send_keys(str(csv))
    wait.until(lambda d: "kijiji" in d.find_element(By.ID, "glossary-csv").get_attribute("value"))
    shoot(driver, "glossary")
    driver.find_element(By.ID, "create-glossary").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "options-status"), "1 terms"))
    picked = Select(driver.find_element(By.ID, "glossary")).first_selected_option
    assert picked.text == "village terms (1)"
    box = driver.find_element(By.ID, "text")
    box.clear()
    box.send_keys("Karibu kijiji chetu.")
    driver.find_element(By.ID, "translate").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "Karibu village chetu."))
    assert "glossary: kijiji → village ✓" in text_of(driver, "terms")

    # A translation memory (TMX): uploaded, picked, and its exact match served.
    tmx = tmp_path / "desk.tmx"
    tmx.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><tmx version="1.4"><header creationtool="t"'
        ' creationtoolversion="1" datatype="plaintext" segtype="sentence" adminlang="en"'
        ' srclang="sw" o-tmf="t"/><body><tu><tuv xml:lang="sw"><seg>Karibu sana.</seg></tuv>'
        '<tuv xml:lang="fr"><seg>Bienvenue.</seg></tuv></tu></body></tmx>',
        "utf-8",
    )
    Select(driver.find_element(By.ID, "glossary")).select_by_value("")
    driver.find_element(By.ID, "memory-file").send_keys(str(tmx))
    wait.until(ec.text_to_be_present_in_element((By.ID, "options-status"), "Memory “desk”"))
    assert Select(driver.find_element(By.ID, "memory")).first_selected_option.text == "desk (1)"
    box.clear()
    box.send_keys("Karibu sana.")
    driver.find_element(By.ID, "translate").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "Bienvenue."))
    wait.until(ec.visibility_of_element_located((By.ID, "memory-matches")))
    assert "“Karibu sana.” → “Bienvenue.” (100%, used)" in text_of(driver, "memory-matches")
    shoot(driver, "memory")
    assert console_errors(driver) == []


def test_fallback_warning_dark_theme_and_a_phone(browser: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 60)
    # The real app serves its configured models: no warning.
    open_page(driver, base_url)
    assert not driver.find_element(By.ID, "fallback-banner").is_displayed()
    light = driver.execute_script("return getComputedStyle(document.body).backgroundColor")

    # /health as an app on the bundled fallback answers it (the schema's own model): the
    # warning is at the top of the page, with the reason.
    reason = "acme/nllb-not-cached could not be loaded (offline); serving the bundled model"
    health = HealthResponse(
        status="degraded",
        version="test",
        components={
            "translator": ComponentHealth(status="degraded", model="tiny", fallback=reason),
            "detector": ComponentHealth(status="healthy", model="lid.176"),
        },
        models_loaded={"translation": True, "language_detection": True},
        timestamp="2026-01-01T00:00:00Z",  # type: ignore[arg-type]
    ).model_dump_json()
    driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {
            "source": "const real = window.fetch; const health = "
            + json.dumps(health)
            + "; window.fetch = (input, init) => String(input).endsWith('/health')"
            " ? Promise.resolve(new Response(health, {status: 200,"
            " headers: {'Content-Type': 'application/json'}})) : real(input, init);"
        },
    )
    open_page(driver, base_url)
    wait.until(ec.visibility_of_element_located((By.ID, "fallback-banner")))
    banner = driver.find_element(By.ID, "fallback-banner")
    assert f"translator: {reason}" in banner.text
    assert banner.location["y"] < driver.find_element(By.TAG_NAME, "header").location["y"]

    # The dark theme follows the system's.
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    dark = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert dark != light
    channels = [int(x) for x in re.findall(r"\d+", dark)[:3]]
    assert max(channels) < 60, dark
    shoot(driver, "dark")

    # A phone: the panes stack (the translation under the text), nothing is cut off.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    text, result = driver.find_element(By.ID, "text"), driver.find_element(By.ID, "result")
    assert result.location["y"] >= text.location["y"] + text.size["height"]
    assert text.size["width"] > 300
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# Chromium with the system's theme dark: prefers-color-scheme matches "dark".
DARK_FLAGS = ["--force-dark-mode"]


def lighthouse(url: str, output: Path, *, dark: bool = False) -> dict[str, Any]:
    """One Lighthouse run (desktop preset, simulated throttling) of ``url``: its report;
    ``dark``: with the system's theme dark (the page's dark colours audited)."""
    if not LIGHTHOUSE.exists():
        pytest.fail("Lighthouse is not installed: `make web-deps` (npm ci in tests/web)")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is needed (.ci/run installs it)")
    run = subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--preset=desktop",
            "--only-categories=performance,accessibility,best-practices",
            "--output=json",
            f"--output-path={output}",
            f"--chrome-flags={' '.join([*CHROMIUM_FLAGS, *(DARK_FLAGS if dark else [])])}",
            "--quiet",
        ],
        env={**os.environ, "CHROME_PATH": chromium},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report: dict[str, Any] = json.loads(output.read_text("utf-8"))
    return report


def failing_audits(report: dict[str, Any], category: str) -> list[str]:
    audits = report["audits"]
    return [
        f"{ref['id']}: {audits[ref['id']]['title']} (score {audits[ref['id']]['score']})"
        for ref in report["categories"][category]["auditRefs"]
        if ref["weight"] > 0
        and audits[ref["id"]]["score"] is not None
        and audits[ref["id"]]["score"] < 1
    ]


def test_lighthouse_scores(base_url: str, tmp_path: Path) -> None:
    """Accessibility and best practices must be perfect on every run; performance (which
    the machine's load moves) must reach 0.95 on the best of up to three runs. The desktop
    preset with Lighthouse's simulated throttling: the page's figures are computed from the
    trace, which a busy 2-core CI machine disturbs less than measured (provided) timings."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    performance: list[float] = []
    for attempt in range(3):
        report = lighthouse(f"{base_url}/", tmp_path / f"lighthouse-{attempt}.json")
        scores = {name: c["score"] for name, c in report["categories"].items()}
        shutil.copy(tmp_path / f"lighthouse-{attempt}.json", ARTIFACTS / "lighthouse.json")
        print(f"lighthouse run {attempt + 1}: {scores}")
        imperfect = {
            category: failing_audits(report, category)
            for category in ("accessibility", "best-practices")
            if scores[category] != 1.0
        }
        assert not imperfect, f"{scores}: {imperfect}"
        performance.append(scores["performance"])
        if scores["performance"] >= 0.95:
            break
    assert max(performance) >= 0.95, (
        f"performance {performance}: {failing_audits(report, 'performance')}"
    )
    # The dark theme too: its colours' contrast is the accessibility audit's as well.
    report = lighthouse(f"{base_url}/", tmp_path / "lighthouse-dark.json", dark=True)
    scores = {name: c["score"] for name, c in report["categories"].items()}
    print(f"lighthouse, dark theme: {scores}")
    imperfect = {
        category: failing_audits(report, category)
        for category in ("accessibility", "best-practices")
        if scores[category] != 1.0
    }
    assert not imperfect, f"dark theme {scores}: {imperfect}"
