"""Dutch messages for the problems of a registry file and for refused freeze dates."""

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.domain.comparison import FreezeRefused
from portal.domain.registry import Problem

DELIMITER_NAMES = {",": "komma's", "\t": "tabs", "|": "verticale strepen"}

SECTOR_VALUES_BY_COLUMN = {
    "SECTOR": "PO, VO, SO, VSO, (V)SO, WEC",
    "SOORT PO": "Bo, Sbo, (V)SO, SO, VSO, WEC",
    "ONDERWIJSSTRUCTUUR": "VMBO, HAVO/VWO, PRO, VSO, ...",
}


PROBLEM_MESSAGES = {
    "empty": _l("Het bestand is leeg. Kies het bestand van DUO opnieuw."),
    "spreadsheet": _l(
        "Dit is een Excel-bestand, geen CSV-bestand. Sla het in Excel op als "
        "‘CSV (gescheiden door lijstscheidingsteken)’ en kies dat bestand."
    ),
    "utf16": _l(
        "Het bestand is opgeslagen als UTF-16 (Unicode-tekst). Sla het op als CSV in "
        "UTF-8 of Windows-1252 en kies het opnieuw."
    ),
    "binary": _l("Het bestand is geen tekstbestand. Kies het CSV-bestand van DUO."),
    "encoding": _l(
        "Rij %(row)s bevat een teken (byte %(value)s) dat noch UTF-8 noch Windows-1252 is. "
        "Sla het bestand op als CSV in UTF-8 of Windows-1252 en kies het opnieuw."
    ),
    "wrong_delimiter": _l(
        "De kolommen zijn gescheiden door %(found)s in plaats van puntkomma's (;). Sla het "
        "bestand op met de puntkomma als scheidingsteken, zoals DUO het publiceert."
    ),
    "csv_syntax": _l(
        'Rij %(row)s is geen geldige CSV-regel: na een afsluitend aanhalingsteken (") hoort '
        "een puntkomma. Controleer de aanhalingstekens in die rij."
    ),
    "csv_unclosed_quote": _l(
        'Het bestand eindigt binnen een veld: een aanhalingsteken (") in rij %(row)s is niet '
        "afgesloten. Sluit het af of verwijder het, en sla het bestand opnieuw op."
    ),
    "csv_field_too_long": _l(
        "Rij %(row)s bevat een veld van meer dan %(max)s tekens. Meestal is een "
        'aanhalingsteken (") in die rij niet afgesloten: controleer de aanhalingstekens.'
    ),
    "duplicate_column": _l(
        "De kolom %(column)s staat meer dan eens in de kopregel. Verwijder de dubbele kolom."
    ),
    "missing_columns": _l(
        "De kopregel mist de kolom(men) %(missing)s. Gevonden kolommen: %(found)s. "
        "Controleer of u het juiste soort bestand hebt gekozen."
    ),
    "no_rows": _l("Het bestand bevat alleen een kopregel en geen gegevens."),
    "field_count": _l(
        "Rij %(row)s heeft %(found)s velden in plaats van %(expected)s. Staat er een "
        "puntkomma in een naam zonder aanhalingstekens eromheen?"
    ),
    "required": _l("Rij %(row)s, kolom %(column)s: de waarde ontbreekt. Vul deze in."),
    "too_long": _l(
        "Rij %(row)s, kolom %(column)s: de waarde ‘%(value)s…’ is langer dan %(max)s "
        "tekens. Kort deze in."
    ),
    "invalid_brin": _l(
        "Rij %(row)s, kolom %(column)s: ‘%(value)s’ is geen geldig BRIN-nummer. Een "
        "BRIN-nummer bestaat uit twee cijfers en twee letters, bijvoorbeeld 15KU."
    ),
    "invalid_vestiging": _l(
        "Rij %(row)s, kolom %(column)s: ‘%(value)s’ is geen geldig vestigingsnummer. "
        "Gebruik twee cijfers (00) of het BRIN-nummer met twee cijfers (15KU00). Let op "
        "dat Excel geen voorloopnul weghaalt."
    ),
    "brin_mismatch": _l(
        "Rij %(row)s, kolom %(column)s: vestigingsnummer ‘%(value)s’ hoort niet bij "
        "BRIN-nummer %(brin)s. Controleer beide kolommen."
    ),
    "invalid_board": _l(
        "Rij %(row)s, kolom %(column)s: ‘%(value)s’ is geen geldig bestuursnummer. Een "
        "bestuursnummer bestaat uit 1 tot 8 cijfers, bijvoorbeeld 41234."
    ),
    "invalid_sector": _l(
        "Rij %(row)s, kolom %(column)s: ‘%(value)s’ is geen bekende waarde. Gebruik een "
        "van: %(allowed)s."
    ),
    "invalid_count": _l(
        "Rij %(row)s, kolom %(column)s: ‘%(value)s’ is geen geldig aantal leerlingen. Vul "
        "een heel getal van 0 of meer in, zonder punt, komma of spatie."
    ),
    "duplicate_row": _l(
        "Rij %(row)s: %(value)s staat ook al in rij %(first)s. Verwijder een van beide rijen."
    ),
    "duplicate_board_number": _l(
        "Rij %(row)s: bestuursnummer %(value)s is hetzelfde nummer als %(first_value)s in rij "
        "%(first)s, want voorloopnullen tellen niet mee. Verwijder een van beide rijen."
    ),
    "unknown_board": _l(
        "Rij %(row)s, kolom %(column)s: bestuur %(value)s staat niet in het portaal. "
        "Importeer eerst het bestand met de bevoegde gezagen."
    ),
    "unknown_school": _l(
        "Rij %(row)s: vestiging %(value)s staat niet in het portaal. Importeer eerst het "
        "bestand met de vestigingen."
    ),
    "invalid_value": _l("Rij %(row)s, kolom %(column)s: ongeldige waarde ‘%(value)s’."),
}


def problem_message(problem: Problem) -> str:
    """Return the Dutch description of a problem: what is wrong, where, and what to do."""
    params = {"row": problem.row, "column": problem.column, "value": problem.value}
    params.update(problem.params)
    if problem.code == "wrong_delimiter":
        params["found"] = DELIMITER_NAMES.get(params["found"], params["found"])
    elif problem.code == "missing_columns":
        params["missing"] = ", ".join(params["missing"])
        params["found"] = ", ".join(params["found"]) or "–"
    elif problem.code == "invalid_sector":
        params["allowed"] = SECTOR_VALUES_BY_COLUMN.get(problem.column, "")
    template = PROBLEM_MESSAGES.get(problem.code, PROBLEM_MESSAGES["invalid_value"])
    return str(template) % params


def freeze_refusal_message(refusal: FreezeRefused) -> str:
    """Return the Dutch reason why a freeze date is not allowed."""
    p = {key: format_date(value, "d MMMM y") for key, value in refusal.params.items()}
    if refusal.code == "in_past":
        return _(
            "%(date)s ligt in het verleden. Kies een datum vanaf vandaag (%(today)s), of zet de "
            "waarden nu vast.",
            **p,
        )
    if refusal.code == "outside_year":
        return _(
            "%(date)s valt buiten het schooljaar. Kies een datum van %(starts_on)s tot en met "
            "%(ends_on)s.",
            **p,
        )
    if refusal.code == "too_far_ahead":
        return _(
            "%(date)s ligt te ver vooruit. Plan het vastzetten in het huidige of het volgende "
            "schooljaar, dus uiterlijk op %(last)s.",
            **p,
        )
    if refusal.code == "year_not_started":
        return _(
            "Dit schooljaar begint pas op %(starts_on)s en heeft nog geen antwoorden. Plan het "
            "vastzetten op een datum in het schooljaar.",
            **p,
        )
    return _("Deze datum is niet mogelijk.")
