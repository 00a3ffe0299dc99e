"""End-to-end tests in a real headless Chromium against the real stack of `portal serve`.

Each test runs twice: with JavaScript, where htmx swaps page fragments, and without it,
where every form is a plain HTML form. Screenshots of the main pages go to the test's
tmp_path under screenshots/.
"""

import hashlib
import io
import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from pypdf import PdfReader

from portal.models import DeliveryRequest, SurveyImport, db

from .browser_support import CHROMIUM_ARGS, PortalServer, find_chromium, run_portal
from .conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser

# Waits are bounded per step (one page load or swap), so a broken step fails within
# seconds instead of hanging the run.
STEP_TIMEOUT_MS = 5_000
expect.set_options(timeout=STEP_TIMEOUT_MS)

SCHOOL_USER = "school@demo.test"
BOARD_USER = "bestuur@demo.test"
OPEN_LEVERDATA = ["01-04-2018", "01-05-2018", "01-06-2018", "01-07-2018"]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    try:
        return find_chromium()
    except RuntimeError as error:
        message = str(error)
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def playwright_driver():
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def portal_env(config, data_dir) -> dict[str, str]:
    """Environment of `portal serve` and of the `portal` commands a test runs beside it."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir),
        "LANG": "C.UTF-8",
        "PORTAL_ENV": "testing",
        "SECRET_KEY": "browser-test-secret",
        "PORTAL_TODAY": config["PORTAL_TODAY"].isoformat(),
        "DATABASE_URL": config["DATABASE_URL"],
        "REDIS_URL": config["REDIS_URL"],
        "PORTAL_DATA_DIR": str(data_dir),
    }


@pytest.fixture
def portal_server(portal_env, redis, tmp_path):
    """The portal's web server and worker, healthy, stopped with SIGTERM at teardown.

    The ``redis`` fixture empties the Redis database before and after, so a shared server
    contains no RQ workers or jobs of an earlier run.
    """
    server = PortalServer(portal_env, tmp_path / "portal-serve.log")
    try:
        server.start()
    except RuntimeError as error:
        message = str(error)
    else:
        message = None
    if message:
        pytest.fail(message, pytrace=False)
    yield server
    leftovers = server.stop()
    assert not leftovers, f"processes of portal serve still ran after it stopped: {leftovers}"
    errors = server.errors()
    assert not errors, "the portal logged server errors:\n" + "\n".join(errors)


@pytest.fixture(params=[True, False], ids=["js-on", "js-off"])
def javascript(request) -> bool:
    return request.param


@pytest.fixture
def page(playwright_driver, chromium_path, portal_server, javascript, tmp_path):
    """A page in a fresh Chromium profile, with JavaScript on or off."""
    context = playwright_driver.chromium.launch_persistent_context(
        tmp_path / "chromium-profile",
        executable_path=chromium_path,
        args=CHROMIUM_ARGS,
        headless=True,
        java_script_enabled=javascript,
        accept_downloads=True,
        base_url=portal_server.url,
        viewport={"width": 1280, "height": 900},
        locale="nl-NL",
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.set_default_navigation_timeout(2 * STEP_TIMEOUT_MS)
    try:
        yield context.pages[0] if context.pages else context.new_page()
    finally:
        context.close()


@pytest.fixture
def screenshot(tmp_path, javascript):
    """Save a full-page screenshot named after the step, as tmp_path/screenshots/*.png."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    mode = "js-on" if javascript else "js-off"
    count = 0

    def take(page: Page, name: str) -> Path:
        nonlocal count
        count += 1
        path = folder / f"{mode}-{count:02d}-{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take


def log_in(page: Page, email: str) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1, name="Inloggen")).to_be_visible()
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1, name="ManagementVenster")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_text("U bent uitgelogd.")).to_be_visible()


def school_tile(page: Page, school_name: str):
    """Return the ManagementVenster tile of one school, matched by its exact name."""
    heading = page.get_by_role("heading", name=school_name, exact=True)
    return page.locator("li.tile").filter(has=heading)


def mark_document(page: Page) -> None:
    """Set a flag on window that only a full page load clears."""
    page.evaluate("window.portalTestDocument = 'kept'")


def document_was_kept(page: Page) -> bool:
    return page.evaluate("window.portalTestDocument") == "kept"


def count_delivery_requests(app) -> int:
    with app.app_context(), db.connection_context():
        return DeliveryRequest.select().count()


def open_report(page: Page, school_name: str, school_code: str) -> None:
    tile = school_tile(page, school_name)
    expect(tile).to_have_count(1)
    tile.get_by_role("link", name="Monitoring Sociale Veiligheid").click()
    expect(
        page.get_by_role("heading", level=1, name="Monitoring Sociale Veiligheid")
    ).to_be_visible()
    expect(page.locator(".lead")).to_contain_text(f"{school_name} ({school_code})")


def check_report_figures(page: Page) -> None:
    """Check the report shows a respondent count and a mean for each of the three indicators."""
    respondents = page.locator(".key-figures > div").filter(has_text="Respondenten").locator("dd")
    expect(respondents).to_have_text(re.compile(r"^\d+$"))
    assert int(respondents.inner_text()) > 0

    indicators = page.locator("table").filter(has=page.locator("caption", has_text="Indicatoren"))
    for name in ("Veiligheidsbeleving", "Welbevinden", "Aantasting"):
        row = indicators.get_by_role("row").filter(
            has=page.get_by_role("rowheader", name=name, exact=True)
        )
        expect(row).to_have_count(1)
        # The first cell is the mean on the 1-4 scale, written the Dutch way: 3,12.
        expect(row.get_by_role("cell").first).to_have_text(re.compile(r"^[1-4],\d\d$"))


def check_field_errors(page: Page) -> None:
    """Check that each required field shows its Dutch error and is described by it."""
    expect(page.get_by_role("alert")).to_contain_text("Het formulier bevat fouten")
    fields = [
        (
            page.get_by_label("De gegevens worden verstuurd met toestemming van het bevoegd gezag"),
            "Vink aan dat het bevoegd gezag toestemming heeft gegeven.",
        ),
        (page.get_by_label("Leverdatum"), "Kies een leverdatum."),
        (
            page.get_by_label("Deelnemende groepen of leerjaren"),
            "Vul in welke groepen of leerjaren hebben meegedaan.",
        ),
        (
            page.get_by_role("group", name="Is de steekproef representatief"),
            "Geef aan of de steekproef representatief is.",
        ),
        (
            page.get_by_label("Naam van het lid van het bevoegd gezag"),
            "Vul de naam in van wie toestemming gaf.",
        ),
        (page.get_by_label("Functie", exact=True), "Vul de functie in van wie toestemming gaf."),
        (
            page.get_by_label("Datum van de toestemming"),
            "Vul de datum van de toestemming in als DD-MM-JJJJ.",
        ),
        (
            page.get_by_label("Contactpersoon voor de Inspectie"),
            "Vul een contactpersoon in.",
        ),
        (
            page.get_by_label("E-mailadres van de contactpersoon"),
            "Vul het e-mailadres van de contactpersoon in.",
        ),
    ]
    for field, message in fields:
        expect(field).to_have_accessible_description(re.compile(re.escape(message)))


def fill_delivery_form(page: Page) -> None:
    page.get_by_label("De gegevens worden verstuurd met toestemming van het bevoegd gezag").check()

    leverdatum = page.get_by_label("Leverdatum")
    options = leverdatum.locator("option").all_inner_texts()
    assert options[1:] == OPEN_LEVERDATA, f"open leverdata offered: {options}"
    leverdatum.select_option(label=OPEN_LEVERDATA[0])

    page.get_by_label("Alleen deze vestiging").check()
    page.get_by_label("Deelnemende groepen of leerjaren").fill("groep 6, 7 en 8")
    page.get_by_role("group", name="Is de steekproef representatief").get_by_label(
        "Ja", exact=True
    ).check()
    page.get_by_label("Naam van het lid van het bevoegd gezag").fill("A. de Boer")
    page.get_by_label("Functie", exact=True).fill("voorzitter college van bestuur")
    page.get_by_label("Datum van de toestemming").fill("2018-03-12")
    page.get_by_label("Contactpersoon voor de Inspectie").fill("Sanne de Vries")
    page.get_by_label("E-mailadres van de contactpersoon").fill("s.devries@regenboog.example")
    page.get_by_label("Telefoonnummer van de contactpersoon").fill("0344 123 456")


def click_preview(page: Page, delivery_path: str):
    """Click "Controleren" and return the POST request it sent."""
    with page.expect_request(
        lambda request: request.method == "POST" and request.url.endswith(delivery_path)
    ) as posted:
        page.get_by_role("button", name="Controleren").click()
    return posted.value


def test_deliver_summary_after_approval(page, screenshot, javascript, app, data_dir, portal_env):
    log_in(page, SCHOOL_USER)
    screenshot(page, "managementvenster")

    open_report(page, "OBS De Regenboog", "15KU00")
    check_report_figures(page)
    screenshot(page, "rapport")

    page.locator("#rapport").get_by_role("link", name="Levering aan de Inspectie").click()
    expect(page.get_by_role("heading", level=1, name="Levering aan de Inspectie")).to_be_visible()
    expect(page.get_by_role("heading", name="Levering aanvragen")).to_be_visible()
    delivery_path = re.sub(r"^https?://[^/]+", "", page.url).split("?")[0]
    assert re.fullmatch(r"/scholen/\d+/levering", delivery_path), page.url

    # An empty form is rejected field by field, and nothing is stored.
    click_preview(page, delivery_path)
    check_field_errors(page)
    screenshot(page, "levering-fouten")
    assert count_delivery_requests(app) == 0

    fill_delivery_form(page)
    if javascript:
        mark_document(page)
    url_before = page.url
    preview_request = click_preview(page, delivery_path)
    expect(page.get_by_role("heading", name="Dit wordt verstuurd")).to_be_visible()
    preview_text = page.locator(".preview__payload").text_content()
    preview = json.loads(preview_text)
    assert preview["brin"] == "15KU"
    assert preview["vestiging"] == "00"
    assert preview["answers"]["consent_name"] == "A. de Boer"
    assert preview["answers"]["consent_date"] == "2018-03-12"
    assert set(preview["scales"]) == {"veiligheidsbeleving", "welbevinden", "aantasting"}
    assert preview["respondents"] > 0
    screenshot(page, "levering-voorbeeld")

    if javascript:
        assert preview_request.headers.get("hx-request") == "true"
        assert preview_request.resource_type == "xhr"
        assert page.url == url_before
        assert document_was_kept(page), "the preview loaded a new page instead of a swap"
    else:
        assert "hx-request" not in preview_request.headers
        assert preview_request.resource_type == "document"

    page.get_by_role("button", name="Bevestigen en indienen").click()
    expect(page.get_by_text("Uw aanvraag is ingediend.")).to_be_visible()
    expect(page.locator(".delivery-status")).to_contain_text("wacht op goedkeuring")
    screenshot(page, "levering-ingediend")
    assert count_delivery_requests(app) == 1

    log_out(page)
    log_in(page, BOARD_USER)
    page.get_by_role("navigation").get_by_role("link", name="Bestuur").click()
    expect(page.get_by_role("heading", level=1, name="Leveringen van het bestuur")).to_be_visible()
    waiting = page.get_by_role("checkbox", name="OBS De Regenboog (15KU00)")
    expect(waiting).to_have_count(1)
    screenshot(page, "bestuur")
    waiting.check()
    page.get_by_role("button", name="Gekozen aanvragen goedkeuren").click()
    expect(page.locator(".result--ok")).to_contain_text("OBS De Regenboog (15KU00)")
    school_row = page.get_by_role("row").filter(has_text="OBS De Regenboog (15KU00)").first
    expect(school_row).to_contain_text("ngepland op 1 april 2018")
    screenshot(page, "bestuur-goedgekeurd")

    output = run_portal(["deliveries", "run-due", "--as-of", "2018-04-01"], portal_env)
    assert output.startswith("1 delivered as of 2018-04-01"), output
    outbox_files = sorted((data_dir / "outbox" / "2018-04-01").glob("*.json"))
    assert len(outbox_files) == 1, f"outbox holds {outbox_files}"
    sent = outbox_files[0].read_bytes()
    checksum = hashlib.sha256(sent).hexdigest()
    assert sent.decode() == preview_text, "the delivered summary differs from the preview"

    log_out(page)
    log_in(page, SCHOOL_USER)
    school_tile(page, "OBS De Regenboog").get_by_role(
        "link", name="Levering aan de Inspectie"
    ).click()
    expect(page.locator(".delivery-status")).to_have_text("geleverd")
    expect(page.locator("code.checksum")).to_have_text(checksum)
    screenshot(page, "levering-geleverd")


def test_download_factsheet_when_ready(page, screenshot, javascript):
    log_in(page, SCHOOL_USER)
    open_report(page, "Rivierenland College", "21AB00")

    page.get_by_role("button", name="Factsheet 2017-2018 maken (PDF)").click()
    expect(
        page.get_by_role("heading", level=1, name="Factsheet Rivierenland College 2017-2018")
    ).to_be_visible()
    assert re.search(r"/factsheets/\d+$", page.url), page.url
    status_url = page.url
    first_status = page.locator(".job-status").get_attribute("data-status")
    screenshot(page, "factsheet-status")

    status_requests = []
    page.on(
        "request", lambda request: request.url == status_url and status_requests.append(request)
    )
    if javascript:
        mark_document(page)
    # With JavaScript the status fragment polls every second. Without it the page reloads
    # itself every 3 s through a <noscript> meta refresh, so 15 s allows several rounds.
    download_link = page.get_by_role("link", name="Factsheet downloaden (PDF)")
    expect(download_link).to_be_visible(timeout=15_000)
    screenshot(page, "factsheet-klaar")

    # A job that was done before the first render leaves nothing to poll for.
    if first_status != "done":
        assert status_requests, f"the status page never asked again (first: {first_status})"
    for request in status_requests:
        if javascript:
            assert request.headers.get("hx-request") == "true"
            assert request.resource_type == "xhr"
        else:
            assert "hx-request" not in request.headers
            assert request.resource_type == "document"
    if javascript:
        assert document_was_kept(page), "the status page reloaded instead of polling a fragment"

    with page.expect_download() as started:
        download_link.click()
    download = started.value
    assert download.suggested_filename == "factsheet-21AB00-2017-2018.pdf"
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF"), f"not a PDF (initial status {first_status}): {pdf[:40]!r}"
    text = "\n".join(page_.extract_text() for page_ in PdfReader(io.BytesIO(pdf)).pages)
    assert "Rivierenland College" in text


def _survey_file(path: Path, respondents: int) -> Path:
    """Write an own-format CSV of 15KU00 for 2017-2018, as Excel on Dutch Windows saves it."""
    items = ("V1", "V2", "V3", "V4", "W1", "W2", "W3", "W4", "A1", "A2", "A3", "A4", "X1")
    lines = [";".join(("brin", "vestiging", "schooljaar", "respondent", "groep", "datum", *items))]
    for number in range(1, respondents + 1):
        answers = [str(1 + (number + position) % 4) for position in range(len(items))]
        group = f"groep {6 + number % 3}"
        lines.append(
            ";".join(("15KU", "00", "2017-2018", str(number), group, "04-12-2017", *answers))
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def _upload_survey_file(page: Page, path: Path) -> None:
    tile = school_tile(page, "OBS De Regenboog")
    tile.get_by_role("link", name="Gegevens inlezen").click()
    expect(
        page.get_by_role("heading", level=1, name="Gegevens inlezen: OBS De Regenboog (15KU00)")
    ).to_be_visible()
    page.locator("#schooljaar").select_option("2017-2018")
    page.get_by_label("Bestand (CSV of XLSX)").set_input_files(path)
    page.get_by_role("button", name="Bestand inlezen").click()


def _check_imported(page: Page, respondents: int, timeout_ms: int = STEP_TIMEOUT_MS) -> None:
    expect(page.get_by_text(f"{respondents} respondenten.").first).to_be_visible(timeout=timeout_ms)
    page.get_by_role("link", name="Naar het rapport").click()
    expect(
        page.get_by_role("heading", level=1, name="Monitoring Sociale Veiligheid")
    ).to_be_visible()
    figure = page.locator(".key-figures > div").filter(has_text="Respondenten").locator("dd")
    expect(figure).to_have_text(str(respondents))
    check_report_figures(page)


def test_import_file_shows_in_report(page, screenshot, tmp_path):
    log_in(page, SCHOOL_USER)
    _upload_survey_file(page, _survey_file(tmp_path / "antwoorden.csv", 45))
    screenshot(page, "import-klaar")
    _check_imported(page, 45)


@pytest.fixture
def large_file_env(portal_env) -> dict[str, str]:
    # Files over 2,000 bytes go to the worker, so a file of 60 respondents takes the
    # path of a large file, which is a job and a status page that follows it.
    portal_env["PORTAL_IMPORT_INLINE_MAX_BYTES"] = "2000"
    return portal_env


def test_large_import_runs_in_worker(large_file_env, page, screenshot, javascript, tmp_path, app):
    log_in(page, SCHOOL_USER)
    if javascript:
        mark_document(page)
    _upload_survey_file(page, _survey_file(tmp_path / "groot.csv", 60))
    # Without JavaScript the status page offers a link to reload it. With JavaScript it
    # requests its own fragment every second.
    status = page.locator(".job-status")
    expect(status).to_be_visible()
    screenshot(page, "import-status")
    if not javascript:
        refresh = page.get_by_role("link", name="Vernieuwen")
        for _ in range(30):
            if status.get_attribute("data-status") not in ("queued", "running"):
                break
            if refresh.count():
                refresh.click()
            page.wait_for_timeout(500)
    _check_imported(page, 60, timeout_ms=30_000)
    with app.app_context(), db.connection_context():
        survey_import = SurveyImport.select().order_by(SurveyImport.id.desc()).get()
    assert survey_import.rq_job_id, "the file was imported within the request, not by the worker"
    assert survey_import.file_path == "", "the stored upload was not removed"


def test_report_fits_narrow_screen(page):
    log_in(page, SCHOOL_USER)
    open_report(page, "OBS De Regenboog", "15KU00")
    page.set_viewport_size({"width": 400, "height": 800})
    # Wide tables scroll inside their own region, so the page keeps the screen's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
