"""The DUO school registry: read the boards, vestigingen and 1 October pupil count files.

DUO publishes these as semicolon-separated CSV with upper-case headers, usually in
Windows-1252 and sometimes in UTF-8 with or without a byte order mark. A file is read and
checked whole first (``read_registry_file``); ``plan_import`` compares it with the
database in one query per table, and ``apply_import`` writes the plan in one transaction,
so a file is applied whole or not at all. Schools and boards missing from a file are
never deleted.

Problems carry a code and parameters; the admin pages turn them into Dutch messages.
Row numbers are line numbers in the file, so the header is row 1 and the first record
row 2.

Sector rule: a ``SECTOR`` column wins when present (PO, VO, SO; VSO, (V)SO and WEC also
mean SO). Otherwise ``SOORT PO`` decides: Bo and Sbo are PO, and (V)SO, SO, VSO and WEC are
SO. Otherwise ``ONDERWIJSSTRUCTUUR`` decides: VSO, SO and (V)SO are SO and any other value
(VMBO, HAVO/VWO, PRO, ...) is VO, because DUO publishes that column in the VO files.
The onderwijssoort is the ``ONDERWIJSSOORT`` column when present, else the lower-cased
value that decided the sector (PRO becomes praktijkonderwijs). With only a SECTOR column
and no ONDERWIJSSOORT, an existing school keeps its onderwijssoort.
"""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from portal.domain.imports.readers import (
    FIELD_TOO_LONG,
    UNCLOSED_QUOTE,
    csv_error_reason,
)
from portal.models import Board, PupilCount, School, SchoolYear, db

BOARDS = "boards"
SCHOOLS = "schools"
PUPILS = "pupils"
KINDS = (BOARDS, SCHOOLS, PUPILS)

# A file is checked whole, but the report stops listing problems after this many.
MAX_PROBLEMS = 100
# Rows per INSERT or UPDATE statement; SQLite allows 32,766 bound values per statement.
BATCH_SIZE = 500

BRIN_PATTERN = re.compile(r"^[0-9]{2}[A-Z]{2}$")
VESTIGING_PATTERN = re.compile(r"^[0-9]{2}$")
BOARD_PATTERN = re.compile(r"^[0-9]{1,8}$")
COUNT_PATTERN = re.compile(r"^[0-9]{1,9}$")

# Column lengths of the board and school tables.
NAME_MAX = 200
PLACE_MAX = 100
SOORT_MAX = 100

# Field -> accepted headers, first match wins. Headers are compared upper-case with runs
# of spaces and underscores collapsed to one space.
COLUMNS = {
    BOARDS: {
        "number": ("BEVOEGD GEZAG NUMMER",),
        "name": ("BEVOEGD GEZAG NAAM", "NAAM BEVOEGD GEZAG"),
    },
    SCHOOLS: {
        "brin": ("BRIN NUMMER",),
        "vestiging": ("VESTIGINGSNUMMER",),
        "name": ("VESTIGINGSNAAM", "INSTELLINGSNAAM"),
        "place": ("PLAATSNAAM",),
        "board": ("BEVOEGD GEZAG NUMMER",),
    },
    PUPILS: {
        "brin": ("BRIN NUMMER",),
        "vestiging": ("VESTIGINGSNUMMER",),
        "pupils": ("TOTAAL", "AANTAL LEERLINGEN"),
    },
}
SECTOR_COLUMNS = ("SECTOR", "SOORT PO", "ONDERWIJSSTRUCTUUR")
SOORT_COLUMN = "ONDERWIJSSOORT"

SECTOR_VALUES = {"PO": "PO", "VO": "VO", "SO": "SO", "VSO": "SO", "(V)SO": "SO", "WEC": "SO"}
SOORT_PO_VALUES = {
    "BO": "PO",
    "BAO": "PO",
    "SBO": "PO",
    "SBAO": "PO",
    "(V)SO": "SO",
    "SO": "SO",
    "VSO": "SO",
    "WEC": "SO",
}
SO_STRUCTURES = {"(V)SO", "SO", "VSO"}
SOORT_NAMES = {"PRO": "praktijkonderwijs", "BAO": "bo", "SBAO": "sbo"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: ``code`` names the rule, and the other fields locate it."""

    code: str
    row: int | None = None
    column: str = ""
    value: str = ""
    params: dict = field(default_factory=dict)


class RegistryFileError(Exception):
    """The file cannot be applied; ``problems`` lists why, ``total`` counts all of them."""

    def __init__(self, problems: list[Problem], total: int | None = None):
        super().__init__(f"{len(problems)} problem(s): {problems[:3]}")
        self.problems = problems
        self.total = total if total is not None else len(problems)


@dataclass(frozen=True)
class BoardRecord:
    row: int
    number: str
    name: str


@dataclass(frozen=True)
class SchoolRecord:
    row: int
    brin: str
    vestiging: str
    name: str
    place: str
    board: str
    sector: str
    onderwijssoort: str | None

    @property
    def code(self) -> str:
        return self.brin + self.vestiging


@dataclass(frozen=True)
class PupilRecord:
    row: int
    brin: str
    vestiging: str
    pupils: int

    @property
    def code(self) -> str:
        return self.brin + self.vestiging


@dataclass
class RegistryFile:
    kind: str
    records: list
    encoding: str


@dataclass
class Change:
    """A record that the import creates or changes: ``fields`` maps a field to (old, new)."""

    key: str
    name: str
    fields: dict[str, tuple] = field(default_factory=dict)

    @property
    def moved(self) -> bool:
        """Tell whether a school moves to another board."""
        return "board" in self.fields


@dataclass
class ImportPlan:
    """The effect of applying a file: new, changed and unchanged records, and those not in it."""

    kind: str
    rows: int
    new: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    unchanged: int = 0
    missing: int = 0

    @property
    def moved(self) -> list[Change]:
        return [change for change in self.changed if change.moved]

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "new": len(self.new),
            "changed": len(self.changed),
            "moved": len(self.moved),
            "unchanged": self.unchanged,
            "missing": self.missing,
        }


# Reading


def decode(data: bytes) -> tuple[str, str]:
    """Return the text of the file and the encoding it was read in.

    UTF-8 is tried first, because Windows-1252 text with accents is almost never valid
    UTF-8, so valid UTF-8 is taken as UTF-8.
    """
    if not data.strip():
        raise RegistryFileError([Problem("empty")])
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise RegistryFileError([Problem("spreadsheet")])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RegistryFileError([Problem("utf16")])
    if b"\x00" in data:
        raise RegistryFileError([Problem("binary")])
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise RegistryFileError([_encoding_problem(data[3:], error)]) from error
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as error:
        raise RegistryFileError([_encoding_problem(data, error)]) from error


def _encoding_problem(data: bytes, error: UnicodeDecodeError) -> Problem:
    row = data.count(b"\n", 0, error.start) + 1
    return Problem("encoding", row=row, value=f"0x{data[error.start]:02X}")


def normalise_header(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).upper()


def _read_rows(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Split the text into the header and (row number, fields) pairs; skip blank lines."""
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if ";" not in first:
        found = next((sep for sep in (",", "\t", "|") if sep in first), None)
        if found is not None:
            raise RegistryFileError([Problem("wrong_delimiter", row=1, params={"found": found})])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True)
    header = None
    rows = []
    # A quoted field can span lines, so a record starts on the line after the last one.
    start = 1
    try:
        for fields in reader:
            start = reader.line_num + 1
            if not any(value.strip() for value in fields):
                continue
            if header is None:
                header = [normalise_header(name) for name in fields]
                continue
            rows.append((reader.line_num, fields))
    except csv.Error as error:
        raise RegistryFileError([_csv_problem(error, start)]) from error
    if header is None:
        raise RegistryFileError([Problem("empty")])
    return header, rows


def _csv_problem(error: csv.Error, row: int) -> Problem:
    """Return the problem of a csv module error in the record that starts on ``row``."""
    reason = csv_error_reason(error)
    if reason == FIELD_TOO_LONG:
        return Problem("csv_field_too_long", row=row, params={"max": csv.field_size_limit()})
    if reason == UNCLOSED_QUOTE:
        return Problem("csv_unclosed_quote", row=row)
    return Problem("csv_syntax", row=row)


def _locate_columns(kind: str, header: list[str]) -> dict[str, int]:
    """Map each field of the kind to its column index, or raise with the missing headers."""
    problems = []
    seen = {}
    for index, name in enumerate(header):
        if name and name in seen:
            problems.append(Problem("duplicate_column", row=1, column=name))
        seen.setdefault(name, index)

    positions = {}
    missing = []
    for field_name, accepted in COLUMNS[kind].items():
        index = next((seen[name] for name in accepted if name in seen), None)
        if index is None:
            missing.append(" of ".join(accepted))
        else:
            positions[field_name] = index
    if kind == SCHOOLS:
        sector_column = next((name for name in SECTOR_COLUMNS if name in seen), None)
        if sector_column is None:
            missing.append(" of ".join(SECTOR_COLUMNS))
        else:
            positions["sector"] = seen[sector_column]
            positions["sector_column"] = sector_column
        if SOORT_COLUMN in seen:
            positions["onderwijssoort"] = seen[SOORT_COLUMN]
    if missing:
        problems.append(
            Problem(
                "missing_columns",
                row=1,
                params={"missing": missing, "found": [name for name in header if name]},
            )
        )
    if problems:
        raise RegistryFileError(problems)
    return positions


class _RowChecker:
    """Collect the problems of the file's rows, up to MAX_PROBLEMS, and count all of them."""

    def __init__(self):
        self.problems: list[Problem] = []
        self.total = 0

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def raise_if_any(self) -> None:
        if self.total:
            raise RegistryFileError(self.problems, self.total)

    def text(self, row, column, value, max_length) -> str | None:
        value = " ".join(value.split())
        if not value:
            self.add(Problem("required", row, column))
            return None
        if len(value) > max_length:
            self.add(Problem("too_long", row, column, value[:40], {"max": max_length}))
            return None
        return value

    def pattern(self, row, column, value, pattern, code) -> str | None:
        value = value.strip().upper()
        if not pattern.match(value):
            self.add(Problem(code, row, column, value))
            return None
        return value


def _location(check: _RowChecker, row: int, header, positions, fields) -> tuple | None:
    """Check BRIN and vestigingsnummer; the latter may be 2 digits or BRIN plus 2 digits."""
    brin_column = header[positions["brin"]]
    vestiging_column = header[positions["vestiging"]]
    brin = check.pattern(row, brin_column, fields[positions["brin"]], BRIN_PATTERN, "invalid_brin")
    raw = fields[positions["vestiging"]].strip().upper()
    if len(raw) == 6:
        prefix, vestiging = raw[:4], raw[4:]
        if not VESTIGING_PATTERN.match(vestiging) or not BRIN_PATTERN.match(prefix):
            check.add(Problem("invalid_vestiging", row, vestiging_column, raw))
            return None
        if brin is not None and prefix != brin:
            check.add(Problem("brin_mismatch", row, vestiging_column, raw, {"brin": brin}))
            return None
    else:
        vestiging = check.pattern(
            row, vestiging_column, raw, VESTIGING_PATTERN, "invalid_vestiging"
        )
    if brin is None or vestiging is None:
        return None
    return brin, vestiging


def _sector(check: _RowChecker, row: int, column: str, value: str) -> tuple | None:
    """Return (sector, onderwijssoort) by the rule in the module docstring."""
    key = " ".join(value.split()).upper()
    if column == "SECTOR":
        sector = SECTOR_VALUES.get(key)
        soort = None
    elif column == "SOORT PO":
        sector = SOORT_PO_VALUES.get(key)
        soort = SOORT_NAMES.get(key, key.lower())
    elif not key:
        sector = soort = None
    else:
        sector = "SO" if key in SO_STRUCTURES else "VO"
        soort = SOORT_NAMES.get(key, key.lower())
    if sector is None:
        check.add(Problem("invalid_sector", row, column, value.strip()[:40]))
        return None
    return sector, soort


def _board_records(check, header, positions, rows) -> list[BoardRecord]:
    records = []
    for row, fields in rows:
        number = check.pattern(
            row, header[positions["number"]], fields[positions["number"]], BOARD_PATTERN,
            "invalid_board",
        )  # fmt: skip
        name = check.text(row, header[positions["name"]], fields[positions["name"]], NAME_MAX)
        if number is not None and name is not None:
            records.append(BoardRecord(row, number, name))
    return records


def _school_records(check, header, positions, rows) -> list[SchoolRecord]:
    records = []
    for row, fields in rows:
        location = _location(check, row, header, positions, fields)
        name = check.text(row, header[positions["name"]], fields[positions["name"]], NAME_MAX)
        place = check.text(row, header[positions["place"]], fields[positions["place"]], PLACE_MAX)
        board = check.pattern(
            row, header[positions["board"]], fields[positions["board"]], BOARD_PATTERN,
            "invalid_board",
        )  # fmt: skip
        sector = _sector(check, row, positions["sector_column"], fields[positions["sector"]])
        soort = sector[1] if sector else None
        if "onderwijssoort" in positions:
            soort = " ".join(fields[positions["onderwijssoort"]].split()) or soort
        if soort is not None and len(soort) > SOORT_MAX:
            check.add(Problem("too_long", row, SOORT_COLUMN, soort[:40], {"max": SOORT_MAX}))
            continue
        if None in (location, name, place, board, sector):
            continue
        records.append(SchoolRecord(row, *location, name, place, board, sector[0], soort))
    return records


def _pupil_records(check, header, positions, rows) -> list[PupilRecord]:
    records = []
    for row, fields in rows:
        location = _location(check, row, header, positions, fields)
        column = header[positions["pupils"]]
        value = fields[positions["pupils"]].strip()
        if not COUNT_PATTERN.match(value):
            check.add(Problem("invalid_count", row, column, value[:40]))
            continue
        if location is not None:
            records.append(PupilRecord(row, *location, int(value)))
    return records


def board_key(number: str) -> int | str:
    """Return the board number as an integer, so that 123 and 0123 are the same board.

    DUO board numbers are digits, and a file edited in Excel loses or gains leading
    zeros. A stored number that is not all ASCII digits is compared as it is.
    """
    if number.isascii() and number.isdigit():
        return int(number)
    return number


def _check_duplicates(check: _RowChecker, kind: str, records: Iterable) -> None:
    first_records = {}
    for record in records:
        key = board_key(record.number) if kind == BOARDS else record.code
        first = first_records.get(key)
        if first is None:
            first_records[key] = record
        elif kind == BOARDS and first.number != record.number:
            check.add(
                Problem(
                    "duplicate_board_number",
                    record.row,
                    value=record.number,
                    params={"first": first.row, "first_value": first.number},
                )
            )
        else:
            value = record.number if kind == BOARDS else record.code
            check.add(
                Problem("duplicate_row", record.row, value=value, params={"first": first.row})
            )


def read_registry_file(kind: str, data: bytes) -> RegistryFile:
    """Decode, parse and check every row of a registry file of ``kind``.

    Raises RegistryFileError with every problem found (the first MAX_PROBLEMS listed).
    Does not touch the database.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown registry file kind {kind!r}")
    text, encoding = decode(data)
    header, rows = _read_rows(text)
    positions = _locate_columns(kind, header)
    if not rows:
        raise RegistryFileError([Problem("no_rows")])

    check = _RowChecker()
    width = len(header)
    complete_rows = []
    for row, fields in rows:
        if len(fields) != width:
            check.add(Problem("field_count", row, params={"found": len(fields), "expected": width}))
        else:
            complete_rows.append((row, fields))
    reader = {BOARDS: _board_records, SCHOOLS: _school_records, PUPILS: _pupil_records}[kind]
    records = reader(check, header, positions, complete_rows)
    _check_duplicates(check, kind, records)
    check.raise_if_any()
    return RegistryFile(kind, records, encoding)


# Comparing with the database and applying


def _school_key(brin: str, vestiging: str) -> str:
    return brin + vestiging


def _plan_boards(registry: RegistryFile) -> tuple[ImportPlan, dict]:
    # A board keeps the number as first stored; a new board gets the form in the file.
    existing = {board_key(board.number): board for board in Board.select()}
    plan = ImportPlan(BOARDS, len(registry.records))
    writes = {"create": [], "update": []}
    for record in registry.records:
        board = existing.get(board_key(record.number))
        if board is None:
            plan.new.append(Change(record.number, record.name, {"name": (None, record.name)}))
            writes["create"].append({"number": record.number, "name": record.name})
        elif board.name != record.name:
            plan.changed.append(
                Change(record.number, record.name, {"name": (board.name, record.name)})
            )
            board.name = record.name
            writes["update"].append(board)
        else:
            plan.unchanged += 1
    in_file = {board_key(record.number) for record in registry.records}
    plan.missing = sum(1 for key in existing if key not in in_file)
    return plan, writes


SCHOOL_FIELDS = ("name", "place", "sector", "onderwijssoort")


def _plan_schools(registry: RegistryFile) -> tuple[ImportPlan, dict]:
    plan = ImportPlan(SCHOOLS, len(registry.records))
    boards = {board_key(board.number): board for board in Board.select()}
    check = _RowChecker()
    for record in registry.records:
        if board_key(record.board) not in boards:
            check.add(Problem("unknown_board", record.row, "BEVOEGD GEZAG NUMMER", record.board))
    check.raise_if_any()

    board_numbers = {board.id: board.number for board in boards.values()}
    existing = {_school_key(school.brin, school.vestiging): school for school in School.select()}
    writes = {"create": [], "update": []}
    for record in registry.records:
        school = existing.get(record.code)
        soort = record.onderwijssoort
        if school is None:
            fields = {name: (None, getattr(record, name)) for name in SCHOOL_FIELDS}
            fields["onderwijssoort"] = (None, soort or "")
            plan.new.append(Change(record.code, record.name, fields))
            writes["create"].append(
                {
                    "brin": record.brin,
                    "vestiging": record.vestiging,
                    "name": record.name,
                    "place": record.place,
                    "sector": record.sector,
                    "onderwijssoort": soort or "",
                    "board": boards[board_key(record.board)].id,
                }
            )
            continue
        changes = {}
        for name in SCHOOL_FIELDS:
            new = getattr(record, name)
            if name == "onderwijssoort" and new is None:
                continue
            old = getattr(school, name)
            if old != new:
                changes[name] = (old, new)
                setattr(school, name, new)
        old_board = board_numbers.get(school.board_id)
        if old_board is None or board_key(old_board) != board_key(record.board):
            changes["board"] = (old_board, record.board)
            school.board = boards[board_key(record.board)].id
        if changes:
            plan.changed.append(Change(record.code, record.name, changes))
            writes["update"].append(school)
        else:
            plan.unchanged += 1
    in_file = {record.code for record in registry.records}
    plan.missing = sum(1 for code in existing if code not in in_file)
    return plan, writes


def _plan_pupils(registry: RegistryFile, school_year: SchoolYear) -> tuple[ImportPlan, dict]:
    plan = ImportPlan(PUPILS, len(registry.records))
    schools = {
        _school_key(brin, vestiging): (school_id, name)
        for school_id, brin, vestiging, name in School.select(
            School.id, School.brin, School.vestiging, School.name
        ).tuples()
    }
    check = _RowChecker()
    for record in registry.records:
        if record.code not in schools:
            check.add(Problem("unknown_school", record.row, "VESTIGINGSNUMMER", record.code))
    check.raise_if_any()

    existing = {
        count.school_id: count
        for count in PupilCount.select().where(PupilCount.school_year == school_year)
    }
    writes = {"create": [], "update": []}
    for record in registry.records:
        school_id, name = schools[record.code]
        count = existing.get(school_id)
        if count is None:
            plan.new.append(Change(record.code, name, {"pupils": (None, record.pupils)}))
            writes["create"].append(
                {"school": school_id, "school_year": school_year.id, "pupils": record.pupils}
            )
        elif count.pupils != record.pupils:
            plan.changed.append(
                Change(record.code, name, {"pupils": (count.pupils, record.pupils)})
            )
            count.pupils = record.pupils
            writes["update"].append(count)
        else:
            plan.unchanged += 1
    in_file = {schools[record.code][0] for record in registry.records}
    plan.missing = sum(1 for school_id, _name in schools.values() if school_id not in in_file)
    return plan, writes


def _plan(registry: RegistryFile, school_year: SchoolYear | None) -> tuple[ImportPlan, dict]:
    if registry.kind == BOARDS:
        return _plan_boards(registry)
    if registry.kind == SCHOOLS:
        return _plan_schools(registry)
    if school_year is None:
        raise ValueError("a pupil count file needs a school year")
    return _plan_pupils(registry, school_year)


def plan_import(registry: RegistryFile, school_year: SchoolYear | None = None) -> ImportPlan:
    """Return what applying the file would change, without writing anything.

    Raises RegistryFileError when a row names a board or school that does not exist.
    """
    return _plan(registry, school_year)[0]


UPDATE_FIELDS = {
    BOARDS: [Board.name],
    SCHOOLS: [School.name, School.place, School.sector, School.onderwijssoort, School.board],
    PUPILS: [PupilCount.pupils],
}
MODELS = {BOARDS: Board, SCHOOLS: School, PUPILS: PupilCount}


def apply_import(registry: RegistryFile, school_year: SchoolYear | None = None) -> ImportPlan:
    """Write the file to the database in one transaction; return what changed.

    The plan is made again inside the transaction, so the result describes the database
    as it was at that moment, not as it was at the preview.
    """
    model = MODELS[registry.kind]
    with db.atomic():
        plan, writes = _plan(registry, school_year)
        for start in range(0, len(writes["create"]), BATCH_SIZE):
            model.insert_many(writes["create"][start : start + BATCH_SIZE]).execute()
        if writes["update"]:
            model.bulk_update(
                writes["update"], fields=UPDATE_FIELDS[registry.kind], batch_size=BATCH_SIZE
            )
    return plan
