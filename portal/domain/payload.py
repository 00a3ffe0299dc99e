"""The samenvatting sent to the Inspectie: aggregates only, never data of a pupil."""

import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass
from datetime import date

from portal.models import School

from .report import Report

SCHEMA_VERSION = 1


@dataclass
class DeliveryAnswers:
    """The school's answers to the questions of the delivery form."""

    level: str  # "brin" for the whole institution, "vestiging" for this location only
    groups: str
    representative: bool
    representative_explanation: str
    consent_name: str
    consent_function: str
    consent_date: date
    contact_name: str
    contact_email: str
    contact_phone: str


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def build_summary(school: School, report: Report, answers: DeliveryAnswers) -> dict:
    """Return the samenvatting of ``report`` for ``school`` as a JSON-ready dict."""
    year = report.school_year
    summary = {
        "schema_version": SCHEMA_VERSION,
        "brin": school.brin,
        "vestiging": school.vestiging if answers.level == "vestiging" else None,
        "level": answers.level,
        "school_name": school.name,
        "school_year": year.name,
        "instrument": report.instrument.name if report.instrument else None,
        "measurement_period": {
            "from": year.survey_opens_on.isoformat(),
            "to": year.survey_closes_on.isoformat(),
        },
        "respondents": report.respondents,
        "pupils": report.pupils,
        # A suppressed report carries None for every mean and share already, so those
        # fields stay and read null. These two fields record that and why.
        "suppressed": report.suppressed,
        "suppression_reason": report.suppression_reason,
        "scales": {
            scale: {
                "mean": _round(result.mean),
                "positive_share": _round(result.positive_share, 3),
                "respondents": result.respondents,
            }
            for scale, result in report.scales.items()
        },
        "victimisation": [
            {
                "item": shares.code,
                "text": shares.text,
                "shares": {o.label: _round(o.share, 3) for o in shares.options},
            }
            for shares in report.victimisation
        ],
        "answers": {
            key: (value.isoformat() if isinstance(value, date) else value)
            for key, value in asdict(answers).items()
        },
    }
    return summary


def encode_summary(summary: dict) -> bytes:
    """Encode a summary as canonical UTF-8 JSON, so the same summary gives the same bytes."""
    return json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _flatten(value, prefix: str = ""):
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value, start=1):
            yield from _flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def summary_csv(summary: dict) -> bytes:
    """Render a summary as two-column CSV (field;value) for Excel on Dutch Windows.

    The file is UTF-8 with a byte-order mark and uses ";" as Excel does with a Dutch
    locale. A text value that a spreadsheet would run as a formula gets a leading quote.
    """
    output = io.StringIO()
    writer = csv.writer(output, delimiter=";", lineterminator="\r\n")
    writer.writerow(["veld", "waarde"])
    for key, value in _flatten(summary):
        if value is None:
            text = ""
        elif isinstance(value, bool):
            text = "ja" if value else "nee"
        elif isinstance(value, float):
            # Excel with Dutch settings reads a decimal comma; a point would become a date.
            text = str(value).replace(".", ",")
        else:
            text = str(value)
        if isinstance(value, str) and text.startswith(FORMULA_PREFIXES):
            text = "'" + text
        writer.writerow([key, text])
    return "\ufeff".encode() + output.getvalue().encode()
