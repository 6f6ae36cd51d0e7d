"""The web page end to end in headless Chromium; a screenshot is kept in .artifacts/."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.serve, pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("chromium and chromedriver are needed (.ci/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        yield session
    finally:
        session.quit()


def test_translate_detect_and_workflow_in_the_browser(browser: object, base_url: str) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 60)  # type: ignore[arg-type]
    driver.get(base_url + "/")  # type: ignore[attr-defined]
    wait.until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-languages") == "202"
    )
    assert len(Select(driver.find_element(By.ID, "target")).options) == 202  # type: ignore[attr-defined]

    text = driver.find_element(By.ID, "text")  # type: ignore[attr-defined]
    text.clear()
    text.send_keys("Mimi ni mwalimu wa shule ya msingi katika kijiji chetu")
    Select(driver.find_element(By.ID, "target")).select_by_value("fra_Latn")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "translate").click()  # type: ignore[attr-defined]
    wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "Mimi ni mwalimu"))
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "detected"))
    assert "swh_Latn" in driver.find_element(By.ID, "translate-meta").text  # type: ignore[attr-defined]

    # A second target: one request, both translations shown, keyed by target.
    Select(driver.find_element(By.ID, "also")).select_by_value("deu_Latn")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "translate").click()  # type: ignore[attr-defined]
    wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "deu_Latn: Mimi ni mwalimu"))
    assert "fra_Latn: Mimi ni mwalimu" in driver.find_element(By.ID, "result").text  # type: ignore[attr-defined]
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "fra_Latn, deu_Latn"))
    # Each target's quality is shown with its flags (the copy model did not translate).
    meta = driver.find_element(By.ID, "translate-meta").text  # type: ignore[attr-defined]
    assert "quality fra_Latn 0.25 ⚑ untranslated, wrong language; deu_Latn 0.25" in meta, meta

    driver.find_element(By.ID, "detect").click()  # type: ignore[attr-defined]
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "Detected: Swahili"))
    # The runners-up, with their confidences on the same scale.
    meta = driver.find_element(By.ID, "translate-meta").text  # type: ignore[attr-defined]
    assert re.search(r"other candidates: \w[^%]* \d+%", meta), meta

    driver.find_element(By.ID, "plan").click()  # type: ignore[attr-defined]
    wait.until(lambda d: d.find_element(By.ID, "workflow-status").get_attribute("data-final"))
    status = driver.find_element(By.ID, "workflow-status")  # type: ignore[attr-defined]
    assert status.get_attribute("data-final") == "done"
    rows = driver.find_elements(By.CSS_SELECTOR, "#tasks tbody tr")  # type: ignore[attr-defined]
    assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows] == ["done", "done"]
    assert "eda_agent" in driver.find_element(By.ID, "dsl").text  # type: ignore[attr-defined]
    chart = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#tasks img"))
    wait.until(lambda d: d.execute_script("return arguments[0].naturalWidth", chart) > 100)

    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "web.png"))  # type: ignore[attr-defined]
    assert (ARTIFACTS / "web.png").stat().st_size > 10_000

    # HTML mode: the markup comes back as text on the page (shown, never rendered), and the
    # service is told it is HTML (markup it refuses is refused, with the reason shown).
    box = driver.find_element(By.ID, "text")  # type: ignore[attr-defined]
    box.clear()
    box.send_keys("<p>Habari <b>rafiki</b> {name}!</p>")
    driver.find_element(By.ID, "html").click()  # type: ignore[attr-defined]
    driver.find_element(By.ID, "translate").click()  # type: ignore[attr-defined]
    wait.until(
        ec.text_to_be_present_in_element((By.ID, "result"), "<p>Habari <b>rafiki</b> {name}!</p>")
    )
    driver.execute_script(  # type: ignore[attr-defined]
        "document.getElementById('text').value = '<div>'.repeat(300) + 'Habari'"
    )
    driver.find_element(By.ID, "translate").click()  # type: ignore[attr-defined]
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "nested deeper"))

    # A glossary made through the API appears in the picker once the page loads, and is
    # applied, each term's fate shown.
    made = httpx.post(
        base_url + "/api/v1/glossaries",
        json={
            "name": "web terms",
            "source_language": "sw",
            "target_language": "fr",
            "entries": [{"source": "rafiki", "target": "ami"}],
        },
        timeout=30,
    ).json()
    driver.get(base_url + "/")  # type: ignore[attr-defined]
    wait.until(
        lambda d: (
            int(d.find_element(By.TAG_NAME, "body").get_attribute("data-glossaries") or 0) >= 1
        )
    )
    Select(driver.find_element(By.ID, "glossary")).select_by_value(made["id"])  # type: ignore[attr-defined]
    Select(driver.find_element(By.ID, "source")).select_by_value("swh_Latn")  # type: ignore[attr-defined]
    Select(driver.find_element(By.ID, "target")).select_by_value("fra_Latn")  # type: ignore[attr-defined]
    box = driver.find_element(By.ID, "text")  # type: ignore[attr-defined]
    box.clear()
    box.send_keys("Habari rafiki yangu.")
    driver.find_element(By.ID, "translate").click()  # type: ignore[attr-defined]
    wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "Habari ami yangu."))
    wait.until(
        ec.text_to_be_present_in_element((By.ID, "translate-meta"), "glossary: rafiki → ami ✓")
    )

    # Corrections (enabled in the test app): edit the translation, save it, and the same
    # text is answered with it, marked as the user's correction.
    Select(driver.find_element(By.ID, "glossary")).select_by_value("")  # type: ignore[attr-defined]
    box = driver.find_element(By.ID, "text")  # type: ignore[attr-defined]
    box.clear()
    box.send_keys("Tutaonana kesho asubuhi.")
    driver.find_element(By.ID, "translate").click()  # type: ignore[attr-defined]
    # The answer first: the correction row is visible since the last translation already,
    # and a correction saved before this answer came would be of the previous text (the
    # page's last translation), which once made the check below fail under load.
    wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "Tutaonana kesho asubuhi."))
    wait.until(ec.visibility_of_element_located((By.ID, "better")))
    better = driver.find_element(By.ID, "better")  # type: ignore[attr-defined]
    better.clear()
    better.send_keys("À demain matin.")
    driver.find_element(By.ID, "suggest").click()  # type: ignore[attr-defined]
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "Correction saved"))
    driver.find_element(By.ID, "translate").click()  # type: ignore[attr-defined]
    # Should the correction not be served, say what the page showed.
    try:
        wait.until(ec.text_to_be_present_in_element((By.ID, "result"), "À demain matin."))
    except TimeoutException:
        shown = {
            name: driver.find_element(By.ID, name).text  # type: ignore[attr-defined]
            for name in ("result", "translate-meta")
        }
        raise AssertionError(f"the correction was not served: {shown}") from None
    wait.until(ec.text_to_be_present_in_element((By.ID, "translate-meta"), "your correction"))


def test_stream_and_document_in_the_browser(browser: object, base_url: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    from serve_app.documents.formats import segments
    from tests.document_files import make_docx

    driver = browser
    wait = WebDriverWait(driver, 60)  # type: ignore[arg-type]
    driver.get(base_url + "/")  # type: ignore[attr-defined]
    wait.until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-languages") == "202"
    )
    Select(driver.find_element(By.ID, "target")).select_by_value("fra_Latn")  # type: ignore[attr-defined]
    Select(driver.find_element(By.ID, "source")).select_by_value("eng_Latn")  # type: ignore[attr-defined]
    text = "First sentence here. A second one! And the third?"
    box = driver.find_element(By.ID, "text")  # type: ignore[attr-defined]
    box.clear()
    box.send_keys(text)
    driver.find_element(By.ID, "stream").click()  # type: ignore[attr-defined]
    wait.until(lambda d: d.find_element(By.ID, "result").get_attribute("data-streamed") == "3")
    assert driver.find_element(By.ID, "result").text == text  # type: ignore[attr-defined]
    assert "streamed 3 sentences" in driver.find_element(By.ID, "translate-meta").text  # type: ignore[attr-defined]

    report = tmp_path / "report.docx"
    report.write_bytes(make_docx())
    driver.find_element(By.ID, "document").send_keys(str(report))  # type: ignore[attr-defined]
    driver.find_element(By.ID, "upload").click()  # type: ignore[attr-defined]
    wait.until(ec.visibility_of_element_located((By.ID, "download")))
    link = driver.find_element(By.ID, "download")  # type: ignore[attr-defined]
    assert link.get_attribute("download") == "report.fra.docx"
    assert "sentences" in driver.find_element(By.ID, "document-status").text  # type: ignore[attr-defined]
    # The integrity report, under the link: the copy model's "translation" is the source,
    # which the page cannot let pass unseen.
    table = driver.find_element(By.ID, "document-report")  # type: ignore[attr-defined]
    assert table.is_displayed()
    assert table.get_attribute("data-translated") == "0"
    assert "Integrity report" in table.text
    assert "Segments" in table.text
    warnings = driver.find_element(By.ID, "document-warnings")  # type: ignore[attr-defined]
    assert "no segment was translated" in warnings.text
    translated = httpx.get(str(link.get_attribute("href")), timeout=30)
    assert translated.status_code == 200
    assert segments(translated.content, "docx") == segments(report.read_bytes(), "docx")
