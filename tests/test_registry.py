"""The DUO school registry import: reading, checking, preview, confirmation and access."""

import re
from io import BytesIO
from pathlib import Path

import pytest

from portal.domain.registry import (
    PUPILS,
    SCHOOLS,
    RegistryFileError,
    apply_import,
    plan_import,
    read_registry_file,
)
from portal.models import AuditEvent, Board, PupilCount, School, SchoolYear, db

from .conftest import HTMX

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "voorbeelden" / "duo"

BOARDS_CSV = (
    "BEVOEGD GEZAG NUMMER;BEVOEGD GEZAG NAAM;STRAATNAAM;PLAATSNAAM\r\n"
    "41234;Stichting Openbaar Onderwijs Rivierenland;Stationsweg 1;Tiel\r\n"
    "63456;Stichting Café Onderwijs Ré;Kerkstraat 3;Zwolle\r\n"
)
SCHOOLS_CSV = (
    "BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;PLAATSNAAM;BEVOEGD GEZAG NUMMER;SOORT PO\r\n"
    "15KU;15KU00;OBS De Regenboog;Tiel;41234;Bo\r\n"
    "31HK;31HK00;Basisschool 't Hoeckje;Zwolle;63456;Bo\r\n"
    "31HK;31HK01;SBO Café Ré;Zwolle;63456;Sbo\r\n"
    "30SO;30SO00;De Branding;Noordwijk;52345;VSO\r\n"
)
# The same schools with two-digit vestigingsnummers and a moved and renamed school.
SCHOOLS_TWO_DIGITS_CSV = (
    "BRIN NUMMER;VESTIGINGSNUMMER;INSTELLINGSNAAM;PLAATSNAAM;BEVOEGD GEZAG NUMMER;SOORT PO\r\n"
    "15KU;00;OBS De Regenboog;Tiel;52345;Bo\r\n"
    "31HK;00;Basisschool 't Hoeckje;Zwolle;63456;Bo\r\n"
    "31HK;01;SBO Café Ré;Zwolle;63456;Sbo\r\n"
    "30SO;00;De Branding;Noordwijk;52345;VSO\r\n"
)
PUPILS_CSV = (
    "BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;TOTAAL\r\n"
    "15KU;00;OBS De Regenboog;230\r\n"
    "04XY;04XY00;CBS Het Anker;0\r\n"
)


def _boards_then_schools(app_context):
    apply_import(read_registry_file("boards", BOARDS_CSV.encode("cp1252")))
    return apply_import(read_registry_file(SCHOOLS, SCHOOLS_CSV.encode("cp1252")))


def _snapshot() -> tuple:
    """Return every board, school and pupil count, to compare before and after."""
    return (
        sorted(Board.select(Board.number, Board.name).tuples()),
        sorted(
            School.select(
                School.brin,
                School.vestiging,
                School.name,
                School.place,
                School.sector,
                School.onderwijssoort,
                School.board,
            ).tuples()
        ),  # fmt: skip
        sorted(
            PupilCount.select(PupilCount.school, PupilCount.school_year, PupilCount.pupils).tuples()
        ),
    )


# Reading and applying in the domain


def test_cp1252_boards_file_creates_and_updates(app_context):
    plan = apply_import(read_registry_file("boards", BOARDS_CSV.encode("cp1252")))

    assert [change.key for change in plan.new] == ["63456"]
    assert plan.unchanged == 1
    assert plan.missing == 1
    assert Board.get(Board.number == "63456").name == "Stichting Café Onderwijs Ré"


def test_board_number_leading_zero_matches(app_context):
    apply_import(read_registry_file("boards", BOARDS_CSV.encode("cp1252")))
    boards_before = Board.select().count()
    padded = BOARDS_CSV.replace("41234;", "041234;").replace("63456;", "0063456;")

    plan = apply_import(read_registry_file("boards", padded.encode("cp1252")))
    schools = apply_import(
        read_registry_file(SCHOOLS, SCHOOLS_CSV.replace(";41234;", ";041234;").encode("cp1252"))
    )

    assert plan.new == []
    assert plan.unchanged == 2
    assert Board.select().count() == boards_before
    assert Board.get(Board.name == "Stichting Café Onderwijs Ré").number == "63456"
    assert "15KU00" not in [change.key for change in schools.changed]
    assert School.get(School.brin == "15KU").board.number == "41234"


def test_new_board_keeps_file_form(app_context):
    data = b"BEVOEGD GEZAG NUMMER;BEVOEGD GEZAG NAAM\n00777;Stichting Nul\n"

    plan = apply_import(read_registry_file("boards", data))

    assert [change.key for change in plan.new] == ["00777"]
    assert Board.get(Board.name == "Stichting Nul").number == "00777"


def test_utf8_bom_file_reads_same_as_cp1252(app_context):
    cp1252 = read_registry_file(SCHOOLS, SCHOOLS_CSV.encode("cp1252"))
    bom = read_registry_file(SCHOOLS, b"\xef\xbb\xbf" + SCHOOLS_CSV.encode("utf-8"))

    assert cp1252.encoding == "cp1252"
    assert bom.encoding == "utf-8-sig"
    assert bom.records == cp1252.records


def test_schools_file_plan_and_apply(app_context):
    plan = _boards_then_schools(app_context)

    assert sorted(change.key for change in plan.new) == ["31HK00", "31HK01"]
    assert plan.unchanged == 2
    assert plan.changed == []
    assert plan.missing == School.select().count() - 4
    hoeckje = School.get((School.brin == "31HK") & (School.vestiging == "00"))
    assert hoeckje.name == "Basisschool 't Hoeckje"
    assert hoeckje.board.number == "63456"
    assert (hoeckje.sector, hoeckje.onderwijssoort) == ("PO", "bo")
    sbo = School.get((School.brin == "31HK") & (School.vestiging == "01"))
    assert (sbo.name, sbo.sector, sbo.onderwijssoort) == ("SBO Café Ré", "PO", "sbo")


def test_two_digit_vestiging_shows_move_and_values(app_context):
    _boards_then_schools(app_context)
    registry = read_registry_file(SCHOOLS, SCHOOLS_TWO_DIGITS_CSV.encode("cp1252"))
    before = _snapshot()

    plan = plan_import(registry)

    assert _snapshot() == before
    assert plan.new == []
    assert [change.key for change in plan.changed] == ["15KU00"]
    assert plan.changed[0].fields == {"board": ("41234", "52345")}
    assert [change.key for change in plan.moved] == ["15KU00"]
    assert plan.unchanged == 3

    apply_import(registry)
    regenboog = School.get((School.brin == "15KU") & (School.vestiging == "00"))
    assert regenboog.board.number == "52345"


def test_changed_values_show_old_and_new(app_context):
    _boards_then_schools(app_context)
    renamed = SCHOOLS_CSV.replace("De Branding;Noordwijk", "De Branding Zee;Katwijk")

    plan = apply_import(read_registry_file(SCHOOLS, renamed.encode("cp1252")))

    assert [change.key for change in plan.changed] == ["30SO00"]
    assert plan.changed[0].fields == {
        "name": ("De Branding", "De Branding Zee"),
        "place": ("Noordwijk", "Katwijk"),
    }
    assert School.get(School.brin == "30SO").place == "Katwijk"


def test_reapplying_same_file_changes_nothing(app_context):
    _boards_then_schools(app_context)
    before = _snapshot()

    plan = apply_import(read_registry_file(SCHOOLS, SCHOOLS_CSV.encode("cp1252")))

    assert (len(plan.new), len(plan.changed), plan.unchanged) == (0, 0, 4)
    assert _snapshot() == before


def test_pupil_counts_create_and_update(app_context):
    year = SchoolYear.get(SchoolYear.name == "2017-2018")
    regenboog = School.get((School.brin == "15KU") & (School.vestiging == "00"))
    old = PupilCount.get((PupilCount.school == regenboog) & (PupilCount.school_year == year))
    PupilCount.delete().where(
        (PupilCount.school_year == year) & (PupilCount.school != regenboog)
    ).execute()

    plan = apply_import(read_registry_file(PUPILS, PUPILS_CSV.encode("cp1252")), year)

    assert plan.changed[0].fields == {"pupils": (old.pupils, 230)}
    assert [change.key for change in plan.new] == ["04XY00"]
    assert PupilCount.get_by_id(old.id).pupils == 230
    anker = School.get(School.brin == "04XY")
    assert (
        PupilCount.get((PupilCount.school == anker) & (PupilCount.school_year == year)).pupils == 0
    )


@pytest.mark.parametrize(
    ("column", "value", "sector", "soort"),
    [
        ("SECTOR", "VO", "VO", None),
        ("SECTOR", "(V)SO", "SO", None),
        ("SOORT PO", "Sbo", "PO", "sbo"),
        ("SOORT PO", "VSO", "SO", "vso"),
        ("ONDERWIJSSTRUCTUUR", "HAVO/VWO", "VO", "havo/vwo"),
        ("ONDERWIJSSTRUCTUUR", "PRO", "VO", "praktijkonderwijs"),
        ("ONDERWIJSSTRUCTUUR", "VSO", "SO", "vso"),
    ],
)
def test_sector_rule(app_context, column, value, sector, soort):
    data = (
        f"BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;PLAATSNAAM;BEVOEGD GEZAG NUMMER;{column}\n"
        f"21AB;00;Rivierenland College;Culemborg;41234;{value}\n"
    )
    record = read_registry_file(SCHOOLS, data.encode()).records[0]

    assert record.sector == sector
    assert record.onderwijssoort == soort


def test_sector_column_keeps_onderwijssoort(app_context):
    data = (
        "BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;PLAATSNAAM;BEVOEGD GEZAG NUMMER;SECTOR\n"
        "21AB;00;Rivierenland College;Culemborg;41234;VO\n"
    )
    plan = apply_import(read_registry_file(SCHOOLS, data.encode()))

    assert plan.unchanged == 1
    assert School.get(School.brin == "21AB").onderwijssoort == "havo/vwo"


def test_example_files_apply(app_context):
    year = SchoolYear.get(SchoolYear.name == "2017-2018")
    for kind, name in (
        ("boards", "bevoegde-gezagen.csv"),
        (SCHOOLS, "vestigingen.csv"),
        (PUPILS, "leerlingen-1-oktober.csv"),
    ):
        registry = read_registry_file(kind, (EXAMPLES / name).read_bytes())
        assert registry.encoding == "cp1252"
        apply_import(registry, year)

    assert School.get(School.brin == "31HK").name == "Basisschool 't Hoeckje"


def test_national_size_file_is_fast(app_context):
    """About 9,000 vestigingen: one query per table, batched writes."""
    import time

    lines = ["BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;PLAATSNAAM;BEVOEGD GEZAG NUMMER;SOORT PO"]
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    for number in range(9000):
        brin = f"{number % 90 + 10:02d}{letters[number // 90 % 23]}{letters[number // 2070]}"
        lines.append(f"{brin};0{number % 2};School {number};Plaats;41234;Bo")
    data = "\n".join(lines).encode("cp1252")

    started = time.monotonic()
    registry = read_registry_file(SCHOOLS, data)
    plan = apply_import(registry)
    elapsed = time.monotonic() - started

    assert len(plan.new) + len(plan.changed) + plan.unchanged == 9000
    assert elapsed < 20, f"applying 9,000 vestigingen took {elapsed:.1f} s"


# Malformed files: each gets its Dutch message and changes nothing


HEADER = "BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;PLAATSNAAM;BEVOEGD GEZAG NUMMER;SOORT PO\n"
GOOD_ROW = "15KU;00;OBS De Regenboog;Tiel;41234;Bo\n"

MALFORMED = [
    ("empty", SCHOOLS, b"", "Het bestand is leeg"),
    ("header only", SCHOOLS, HEADER.encode(), "alleen een kopregel"),
    ("comma delimiter", SCHOOLS, HEADER.replace(";", ",").encode(), "gescheiden door komma's"),
    ("excel file", SCHOOLS, b"PK\x03\x04rest-of-zip", "Excel-bestand"),
    ("utf-16", SCHOOLS, "\ufeff".encode("utf-16-le") + HEADER.encode("utf-16-le"), "UTF-16"),
    ("undecodable byte", SCHOOLS, HEADER.encode() + b"15KU;00;OBS \x81;Tiel;41234;Bo\n", "noch UTF-8 noch Windows-1252"),
    ("missing column", SCHOOLS, b"BRIN NUMMER;VESTIGINGSNUMMER;PLAATSNAAM\n15KU;00;Tiel\n", "mist de kolom(men) VESTIGINGSNAAM of INSTELLINGSNAAM"),
    ("wrong kind", PUPILS, HEADER.encode() + GOOD_ROW.encode(), "mist de kolom(men) TOTAAL of AANTAL LEERLINGEN"),
    ("bad brin", SCHOOLS, (HEADER + "15K1;00;OBS De Regenboog;Tiel;41234;Bo\n").encode(), "Rij 2, kolom BRIN NUMMER: ‘15K1’ is geen geldig BRIN-nummer"),
    ("bad vestiging", SCHOOLS, (HEADER + "15KU;0;OBS De Regenboog;Tiel;41234;Bo\n").encode(), "Rij 2, kolom VESTIGINGSNUMMER: ‘0’ is geen geldig vestigingsnummer"),
    ("vestiging of other brin", SCHOOLS, (HEADER + "15KU;21AB00;OBS De Regenboog;Tiel;41234;Bo\n").encode(), "vestigingsnummer ‘21AB00’ hoort niet bij BRIN-nummer 15KU"),
    ("bad board number", SCHOOLS, (HEADER + "15KU;00;OBS De Regenboog;Tiel;4123A;Bo\n").encode(), "‘4123A’ is geen geldig bestuursnummer"),
    ("unknown board", SCHOOLS, (HEADER + "15KU;00;OBS De Regenboog;Tiel;99999;Bo\n").encode(), "Rij 2, kolom BEVOEGD GEZAG NUMMER: bestuur 99999 staat niet in het portaal"),
    ("unknown sector", SCHOOLS, (HEADER + "15KU;00;OBS De Regenboog;Tiel;41234;Mbo\n").encode(), "‘Mbo’ is geen bekende waarde"),
    ("missing name", SCHOOLS, (HEADER + "15KU;00;;Tiel;41234;Bo\n").encode(), "kolom VESTIGINGSNAAM: de waarde ontbreekt"),
    ("duplicate row", SCHOOLS, (HEADER + GOOD_ROW + "15KU;15KU00;OBS De Regenboog;Tiel;41234;Bo\n").encode(), "Rij 3: 15KU00 staat ook al in rij 2"),
    ("field count", SCHOOLS, (HEADER + "15KU;00;OBS De Regenboog; Tiel;Tiel;41234;Bo\n").encode(), "Rij 2 heeft 7 velden in plaats van 6"),
    ("negative count", PUPILS, b"BRIN NUMMER;VESTIGINGSNUMMER;TOTAAL\n15KU;00;-3\n", "‘-3’ is geen geldig aantal leerlingen"),
    ("fractional count", PUPILS, b"BRIN NUMMER;VESTIGINGSNUMMER;TOTAAL\n15KU;00;12,5\n", "‘12,5’ is geen geldig aantal leerlingen"),
    ("unknown school", PUPILS, b"BRIN NUMMER;VESTIGINGSNUMMER;TOTAAL\n99ZZ;00;12\n", "vestiging 99ZZ00 staat niet in het portaal"),
    ("field over limit", SCHOOLS, (HEADER + "15KU;00;" + "x" * 140_000 + ";Tiel;41234;Bo\n").encode(), "Rij 2 bevat een veld van meer dan 131072 tekens"),
    ("unclosed quote", SCHOOLS, (HEADER + GOOD_ROW + '15KU;01;"OBS Zon;Tiel;41234;Bo\n').encode(), "in rij 3 is niet afgesloten"),
    ("text after quote", SCHOOLS, (HEADER + '15KU;00;"OBS" De Regenboog;Tiel;41234;Bo\n').encode(), "Rij 2 is geen geldige CSV-regel"),
    ("board number with leading zero", "boards", b"BEVOEGD GEZAG NUMMER;BEVOEGD GEZAG NAAM\n123;Stichting A\n0123;Stichting B\n", "Rij 3: bestuursnummer 0123 is hetzelfde nummer als 123 in rij 2"),
    ("same board number twice", "boards", b"BEVOEGD GEZAG NUMMER;BEVOEGD GEZAG NAAM\n123;Stichting A\n123;Stichting B\n", "Rij 3: 123 staat ook al in rij 2"),
    ("duplicate column", SCHOOLS, (HEADER.replace("PLAATSNAAM", "BRIN NUMMER") + GOOD_ROW).encode(), "De kolom BRIN NUMMER staat meer dan eens"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_file_rejected_by_page(client, auth, app, kind, data, message):
    auth.login("beheer@demo.test")
    with app.app_context(), db.connection_context():
        before = _snapshot()

    response = client.post(
        "/beheer/register",
        data={"kind": kind, "schooljaar": "2017-2018", "file": (BytesIO(data), "duo.csv")},
        content_type="multipart/form-data",
    )

    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    assert message in page
    assert "Er is niets gewijzigd" in page or "Alleen de eerste" in page
    with app.app_context(), db.connection_context():
        assert _snapshot() == before
    assert not list((app.config["PORTAL_DATA_DIR"] / "registry").glob("*.csv"))


def test_many_errors_listed_up_to_limit(app_context):
    rows = "".join(f"15K{i % 10};00;School;Tiel;41234;Bo\n" for i in range(150))

    with pytest.raises(RegistryFileError) as caught:
        read_registry_file(SCHOOLS, (HEADER + rows).encode())

    assert caught.value.total == 150
    assert len(caught.value.problems) == 100


# The pages: preview, confirmation, tampering, access


def _upload(client, kind: str, data: bytes, headers=None, year="2017-2018"):
    return client.post(
        "/beheer/register",
        data={"kind": kind, "schooljaar": year, "file": (BytesIO(data), "duo.csv")},
        content_type="multipart/form-data",
        headers=headers or {},
    )


def _confirm_fields(page: str) -> dict:
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    sha256 = re.search(r'name="sha256" value="([^"]+)"', page).group(1)
    return {"token": token, "sha256": sha256}


def _import(client, kind: str, data: bytes) -> None:
    """Upload a file and confirm it."""
    preview = _upload(client, kind, data)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    done = client.post(
        "/beheer/register/bevestigen", data=_confirm_fields(preview.get_data(as_text=True))
    )
    assert done.status_code == 200


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_upload_preview_then_confirm(client, auth, app, headers):
    auth.login("beheer@demo.test")
    _import(client, "boards", BOARDS_CSV.encode("cp1252"))

    preview = _upload(client, SCHOOLS, SCHOOLS_CSV.encode("cp1252"), headers)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert ("<html" in page) is (not headers)
    assert 'data-count="new">2<' in page
    assert 'data-count="unchanged">2<' in page
    assert "Niet in het bestand" in page
    with app.app_context(), db.connection_context():
        assert not School.select().where(School.brin == "31HK").exists()
    fields = _confirm_fields(page)
    staged = app.config["PORTAL_DATA_DIR"] / "registry" / f"{fields['token']}.csv"
    assert staged.exists()

    done = client.post("/beheer/register/bevestigen", data=fields, headers=headers)

    result = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "Geïmporteerd" in result
    assert 'data-count="new">2<' in result
    assert not staged.exists()
    with app.app_context(), db.connection_context():
        assert School.select().where(School.brin == "31HK").count() == 2
        event = (
            AuditEvent.select()
            .where(AuditEvent.action == "registry.imported")
            .order_by(AuditEvent.id.desc())
            .first()
        )
        assert event.details["kind"] == SCHOOLS
        assert event.details["new"] == 2
        assert event.details["missing"] == School.select().count() - 4


def test_preview_shows_school_moving_board(client, auth, app):
    auth.login("beheer@demo.test")
    _import(client, "boards", BOARDS_CSV.encode("cp1252"))
    _import(client, SCHOOLS, SCHOOLS_CSV.encode("cp1252"))

    page = _upload(client, SCHOOLS, SCHOOLS_TWO_DIGITS_CSV.encode("cp1252")).get_data(as_text=True)

    assert "Vestigingen die naar een ander bestuur gaan" in page
    assert 'data-count="moved">1<' in page
    assert re.search(r"15KU00</th><td>OBS De Regenboog</td><td>41234</td><td>52345</td>", page)


def test_pupil_upload_needs_school_year(client, auth):
    auth.login("beheer@demo.test")

    response = _upload(client, PUPILS, PUPILS_CSV.encode(), year="")

    assert response.status_code == 422
    assert "Kies het schooljaar waar de telling bij hoort." in response.get_data(as_text=True)


def test_upload_without_file_rejected(client, auth):
    auth.login("beheer@demo.test")

    response = client.post("/beheer/register", data={"kind": SCHOOLS})

    assert response.status_code == 422
    assert "Kies een bestand." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ("sha256", 400, "hoort niet bij het geüploade bestand"),
        ("token", 409, "al verwerkt of geannuleerd"),
        ("path", 400, "hoort niet bij het geüploade bestand"),
        ("file", 400, "hoort niet bij het geüploade bestand"),
    ],
)
def test_tampered_confirmation_rejected(client, auth, app, change, status, message):
    auth.login("beheer@demo.test")
    page = _upload(client, "boards", BOARDS_CSV.encode("cp1252")).get_data(as_text=True)
    fields = _confirm_fields(page)
    staged = app.config["PORTAL_DATA_DIR"] / "registry" / f"{fields['token']}.csv"
    if change == "sha256":
        fields["sha256"] = "0" * 64
    elif change == "token":
        fields["token"] = "A" * 32
    elif change == "path":
        fields["token"] = "../../secret_key"
    else:
        staged.write_bytes(BOARDS_CSV.replace("Ré", "Ra").encode("cp1252"))

    response = client.post("/beheer/register/bevestigen", data=fields)

    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert not Board.select().where(Board.number == "63456").exists()


def test_confirm_twice_second_refused(client, auth, app):
    auth.login("beheer@demo.test")
    fields = _confirm_fields(
        _upload(client, "boards", BOARDS_CSV.encode("cp1252")).get_data(as_text=True)
    )

    first = client.post("/beheer/register/bevestigen", data=fields)
    second = client.post("/beheer/register/bevestigen", data=fields)

    assert first.status_code == 200
    assert second.status_code == 409
    with app.app_context(), db.connection_context():
        assert AuditEvent.select().where(AuditEvent.action == "registry.imported").count() == 1


def test_stale_confirmation_refused(client, auth, app):
    import os

    auth.login("beheer@demo.test")
    fields = _confirm_fields(
        _upload(client, "boards", BOARDS_CSV.encode("cp1252")).get_data(as_text=True)
    )
    staged = app.config["PORTAL_DATA_DIR"] / "registry" / f"{fields['token']}.csv"
    os.utime(staged, (1_000_000_000, 1_000_000_000))

    response = client.post("/beheer/register/bevestigen", data=fields)

    assert response.status_code == 409
    assert "De bevestiging is verlopen" in response.get_data(as_text=True)
    assert not staged.exists()


def test_cancel_removes_staged_file(client, auth, app):
    auth.login("beheer@demo.test")
    fields = _confirm_fields(
        _upload(client, "boards", BOARDS_CSV.encode("cp1252")).get_data(as_text=True)
    )

    response = client.post("/beheer/register/annuleren", data=fields)

    assert response.status_code == 303
    assert not list((app.config["PORTAL_DATA_DIR"] / "registry").iterdir())
    with app.app_context(), db.connection_context():
        assert not Board.select().where(Board.number == "63456").exists()


@pytest.mark.parametrize("email", ["school@demo.test", "bestuur@demo.test", "helpdesk@demo.test"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/beheer/"),
        ("get", "/beheer/register"),
        ("post", "/beheer/register"),
        ("post", "/beheer/register/bevestigen"),
        ("post", "/beheer/register/annuleren"),
    ],
)
def test_registry_pages_hidden_from_other_roles(client, auth, email, method, path):
    auth.login(email)

    response = getattr(client, method)(path)

    assert response.status_code == 404


def test_import_with_csrf_protection(config, redis, tmp_path):
    """The upload, confirmation and cancel forms carry working CSRF tokens."""
    from portal import create_app

    from .conftest import DEMO_PASSWORD, csrf_token

    config["WTF_CSRF_ENABLED"] = True
    app = create_app(config)
    client = app.test_client()
    login_page = client.get("/inloggen").get_data(as_text=True)
    client.post(
        "/inloggen",
        data={
            "email": "beheer@demo.test",
            "password": DEMO_PASSWORD,
            "csrf_token": csrf_token(login_page),
        },
    )
    form_page = client.get("/beheer/register").get_data(as_text=True)

    preview = client.post(
        "/beheer/register",
        data={
            "kind": "boards",
            "csrf_token": csrf_token(form_page),
            "file": (BytesIO(BOARDS_CSV.encode("cp1252")), "duo.csv"),
        },
        content_type="multipart/form-data",
    )
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    without_token = client.post("/beheer/register/bevestigen", data=_confirm_fields(page))
    assert without_token.status_code == 400
    done = client.post(
        "/beheer/register/bevestigen",
        data={**_confirm_fields(page), "csrf_token": csrf_token(page)},
    )

    assert done.status_code == 200
    with app.app_context(), db.connection_context():
        assert Board.select().where(Board.number == "63456").exists()
    db.close()
