"""Dutch labels of the overview states and explanations of why a school is at risk."""

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.delivery.messages import status_label
from portal.domain.board import Risk, SchoolStatus, State

STATE_LABELS = {
    State.NO_DATA: _l("Geen gegevens"),
    State.NO_REQUEST: _l("Gegevens, geen aanvraag"),
    State.WAITING: _l("Wacht op goedkeuring"),
    State.SCHEDULED: _l("Ingepland"),
    State.DELIVERED: _l("Geleverd"),
    State.FAILED: _l("Mislukt"),
}


def _day(value) -> str:
    return format_date(value, "d MMMM y") if value else ""


def state_label(state: State) -> str:
    """Return the short Dutch name of an overview state."""
    return str(STATE_LABELS[state])


def state_description(row: SchoolStatus) -> str:
    """Return the state with its date, such as "ingepland op 1 april 2018"."""
    request = row.request
    if row.state == State.NO_DATA:
        return _("Er zijn nog geen gegevens van de vragenlijst.")
    if row.state == State.NO_REQUEST:
        return _("Er zijn gegevens, maar er is nog geen levering aangevraagd.")
    if row.state == State.WAITING:
        return _("Wacht op goedkeuring, leverdatum %(date)s.", date=_day(request.leverdatum))
    if row.state == State.SCHEDULED:
        return _("Ingepland op %(date)s.", date=_day(request.leverdatum))
    if row.state == State.DELIVERED:
        return _("Geleverd op %(date)s.", date=_day(row.shown_date))
    return _(
        "%(status)s (leverdatum %(date)s).",
        status=status_label(request.status).capitalize(),
        date=_day(request.leverdatum),
    )


def risk_message(risk: Risk) -> str:
    """Return the Dutch sentence that explains why the school may miss the last leverdatum."""
    params = risk.params
    if risk.code == "deadline_passed":
        return _(
            "De laatste leverdatum van dit schooljaar (%(last)s) is voorbij. "
            "Levering kan alleen nog in overleg met de Inspectie van het Onderwijs.",
            last=_day(params["last"]),
        )
    if risk.code == "request_date_passed":
        return _(
            "De leverdatum van de aanvraag (%(date)s) is verstreken zonder goedkeuring. "
            "De school moet een latere leverdatum kiezen.",
            date=_day(params["date"]),
        )
    if risk.code == "deadline_near":
        return ngettext(
            "Nog %(num)d dag tot de laatste leverdatum (%(last)s).",
            "Nog %(num)d dagen tot de laatste leverdatum (%(last)s).",
            params["days"],
            last=_day(params["last"]),
        )
    if risk.code == "last_date_only":
        return _(
            "Alleen de laatste leverdatum (%(last)s) is nog open. Daarna kan er niets meer "
            "worden geleverd.",
            last=_day(params["last"]),
        )
    return _("Deze school loopt risico de laatste leverdatum te missen.")


def next_step(row: SchoolStatus) -> str:
    """Return what has to happen before the school can be delivered."""
    if row.state == State.NO_DATA:
        return _("De school moet eerst de vragenlijst afnemen of gegevens laten importeren.")
    if row.state == State.NO_REQUEST:
        return _("De school kan levering aanvragen, of u geeft hieronder direct toestemming.")
    if row.state == State.WAITING:
        return _("De aanvraag wacht op uw goedkeuring.")
    if row.state == State.FAILED:
        return _("De levering is mislukt. De helpdesk plant die opnieuw in.")
    return ""
