"""Small factories for schools and delivery requests in the demo database."""

import itertools
import uuid
from datetime import date

from portal.clock import utcnow
from portal.domain.delivery import APPROVED, build_payload
from portal.domain.payload import DeliveryAnswers, sha256_hex
from portal.models import Board, DeliveryRequest, Instrument, School, SchoolYear, User, db

_numbers = itertools.count(1)

ANSWERS = DeliveryAnswers(
    level="vestiging",
    groups="groep 6, 7 en 8",
    representative=True,
    representative_explanation="",
    consent_name="J. de Boer",
    consent_function="voorzitter college van bestuur",
    consent_date=date(2018, 3, 1),
    contact_name="S. de Vries",
    contact_email="contact@school.example",
    contact_phone="",
)


def make_school(board_number: str = "41234") -> School:
    """Create a vestiging with a fresh BRIN (two digits and two letters)."""
    number = next(_numbers)
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    brin = f"{90 + number // 500:02d}{letters[number // 23 % 23]}{letters[number % 23]}"
    return School.create(
        board=Board.get(Board.number == board_number),
        brin=brin,
        vestiging="00",
        name=f"Testschool {number}",
        place="Utrecht",
        sector="PO",
        onderwijssoort="bo",
    )


def make_approved_request(
    leverdatum: date, school: School | None = None, year: str = "2017-2018", status: str = APPROVED
) -> DeliveryRequest:
    """Create a request in ``status`` directly, bypassing the calendar checks."""
    school = school or make_school()
    school_year = SchoolYear.get(SchoolYear.name == year)
    payload = build_payload(school, school_year, ANSWERS, 10)
    secretary = User.get(User.email == "bestuur@demo.test")
    now = utcnow()
    with db.atomic():
        return DeliveryRequest.create(
            school=school,
            school_year=school_year,
            instrument=Instrument.get(Instrument.code == "msv"),
            status=status,
            leverdatum=leverdatum,
            payload=payload.decode(),
            payload_sha256=sha256_hex(payload),
            idempotency_key=str(uuid.uuid4()),
            created_by=secretary,
            created_at=now,
            updated_at=now,
            decided_by=secretary,
            decided_at=now,
            **ANSWERS.__dict__,
        )
