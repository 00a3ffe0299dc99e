"""Dutch explanations of why a delivery step was refused."""

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.domain.calendar import DeliveryRefused


def _day(value) -> str:
    return format_date(value, "d MMMM y") if value else ""


def refusal_message(error: DeliveryRefused) -> str:
    """Return the Dutch sentence that tells the user why and what to do next."""
    params = error.params
    if error.code == "year_closed":
        return _(
            "Gegevens van schooljaar %(year)s kunnen niet meer via het portaal worden geleverd. "
            "Neem contact op met de Inspectie van het Onderwijs.",
            year=params["year"],
        )
    if error.code == "year_not_started":
        return _("Schooljaar %(year)s is nog niet begonnen.", year=params["year"])
    if error.code == "no_dates_left":
        if params.get("last"):
            return _(
                "De laatste leverdatum van schooljaar %(year)s (%(last)s) is voorbij. "
                "Neem contact op met de Inspectie van het Onderwijs.",
                year=params["year"],
                last=_day(params["last"]),
            )
        return _(
            "Voor schooljaar %(year)s zijn geen leverdata vastgelegd. Neem contact op met de helpdesk.",
            year=params["year"],
        )
    if error.code == "date_past":
        return _(
            "De leverdatum %(date)s ligt niet meer in de toekomst. Kies een latere datum.",
            date=_day(params["date"]),
        )
    if error.code == "date_not_offered":
        return _(
            "Op %(date)s wordt niet geleverd. Kies een datum uit de lijst.",
            date=_day(params["date"]),
        )
    if error.code == "already_requested":
        return _("Voor deze school en dit schooljaar is al een aanvraag ingediend.")
    if error.code == "too_late_to_change":
        return _(
            "Deze aanvraag kan niet meer worden gewijzigd of ingetrokken: dat kan tot de dag vóór "
            "de leverdatum %(date)s.",
            date=_day(params["date"]),
        )
    if error.code == "not_changeable":
        return _(
            "Deze aanvraag is %(status)s en kan niet meer worden gewijzigd of ingetrokken.",
            status=status_label(params["status"]),
        )
    if error.code == "status_changed":
        return _(
            "Deze aanvraag is intussen gewijzigd. Bekijk de actuele stand en probeer het opnieuw."
        )
    return _("Deze actie is niet mogelijk.")


STATUS_LABELS = {
    "submitted": _l("wacht op goedkeuring van het bevoegd gezag"),
    "approved": _l("goedgekeurd, ingepland"),
    "delivering": _l("wordt verstuurd"),
    "delivered": _l("geleverd"),
    "retrying": _l("levering mislukt, wordt opnieuw geprobeerd"),
    "given_up": _l("levering mislukt, de helpdesk is ingeschakeld"),
    "rejected": _l("afgewezen door het bevoegd gezag"),
    "withdrawn": _l("ingetrokken"),
}


def status_label(status: str) -> str:
    """Return the Dutch label of a delivery status."""
    return str(STATUS_LABELS.get(status, status))
