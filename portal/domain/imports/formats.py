"""Column mappings of the file formats, kept as JSON files in formats/.

A mapping names the columns of the fixed fields (several accepted names each), how a
group value becomes the portal's group name, how the file's item columns map to the
portal's item codes, and how the file's answer codes map to answer values. A new
provider is a new JSON file; docs/import-format.md describes the keys.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FORMATS_DIR = Path(__file__).parent / "formats"
# Fixed fields a mapping may name; school identity is either school_code or brin + vestiging.
FIELDS = ("brin", "vestiging", "school_code", "school_year", "respondent", "group", "taken_on")


@dataclass(frozen=True)
class ImportFormat:
    code: str
    label: str
    # Field name to the accepted column names (compared case-insensitively).
    fields: dict[str, tuple[str, ...]]
    # A group value of digits only is written with this template, e.g. "leerjaar {}".
    group_template: str | None
    # File column to portal item code; None means the columns are the portal's item codes.
    items: dict[str, str] | None
    # File answer code to answer value, None for "not answered"; None means plain numbers.
    answer_codes: dict[str, int | None] | None


def _load(path: Path) -> ImportFormat:
    raw = json.loads(path.read_text(encoding="utf-8"))
    fields = {name: tuple(columns) for name, columns in raw["fields"].items()}
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"import format {path.name}: unknown fields {sorted(unknown)}")
    has_code = "school_code" in fields
    has_parts = "brin" in fields and "vestiging" in fields
    if not (has_code or has_parts) or not {"respondent", "group", "taken_on"} <= set(fields):
        raise ValueError(
            f"import format {path.name}: needs school_code or brin + vestiging, "
            "and respondent, group and taken_on"
        )
    return ImportFormat(
        code=raw["code"],
        label=raw["label"],
        fields=fields,
        group_template=raw.get("group_template"),
        items=raw.get("items"),
        answer_codes=raw.get("answer_codes"),
    )


@cache
def import_formats() -> dict[str, ImportFormat]:
    """Return every mapping in formats/, by code, the portal's own format first."""
    formats = [_load(path) for path in sorted(FORMATS_DIR.glob("*.json"))]
    formats.sort(key=lambda f: (f.code != "msv", f.code))
    return {f.code: f for f in formats}
