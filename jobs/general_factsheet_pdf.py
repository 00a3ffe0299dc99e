"""The general factsheet: how delivery to the Inspectie through the portal works, and when."""

from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import ListFlowable, ListItem, Spacer

from portal.domain.calendar import current_school_year, delivery_dates, school_year_name
from portal.models import Instrument

from .pdf_layout import build_pdf, styles, text


def _day(value: date) -> str:
    return format_date(value, "d MMMM y")


def leverdata(today: date) -> tuple[str, list[tuple[str, list[date]]]]:
    """Return the current school year's name and, per instrument, its leverdata from the calendar."""
    school_year = current_school_year(today)
    if school_year is None:
        return school_year_name(today), []
    per_instrument = [
        (instrument.name, delivery_dates(school_year, instrument))
        for instrument in Instrument.select().order_by(Instrument.external, Instrument.name)
    ]
    return school_year.name, per_instrument


def _numbered(items: list[str], style) -> ListFlowable:
    return ListFlowable(
        [ListItem(text(item, style), leftIndent=14) for item in items],
        bulletType="1",
        bulletFontName=style.fontName,
        bulletFontSize=style.fontSize,
        leftIndent=14,
    )


def render_general_factsheet(today: date, helpdesk_email: str, portal_url: str) -> bytes:
    """Return the PDF of the general factsheet for the school year that contains ``today``."""
    style = styles()
    year_name, dates = leverdata(today)
    story = [
        text(_("Factsheet: de monitor sociale veiligheid leveren via het portaal"), style.title),
        text(_("Schooljaar %(year)s", year=year_name), style.heading),
        text(_("Wat is de monitoringsplicht?"), style.heading),
        text(
            _(
                "Sinds 1 augustus 2015 moet elke school in het primair onderwijs, het voortgezet "
                "onderwijs en het (voortgezet) speciaal onderwijs ieder schooljaar de sociale "
                "veiligheid van haar leerlingen monitoren. Dat gebeurt met een gestandaardiseerd, "
                "valide en betrouwbaar instrument, bij een representatief deel van de leerlingen. "
                "De school stelt de resultaten beschikbaar aan de Inspectie van het Onderwijs."
            ),
            style.body,
        ),
        text(
            _(
                "De Inspectie ontvangt alleen gemiddelden per school voor veiligheidsbeleving, "
                "welbevinden en aantasting van de veiligheid, nooit gegevens van afzonderlijke "
                "leerlingen. Zonder toestemming van het bevoegd gezag wordt niets verstuurd."
            ),
            style.body,
        ),
        text(_("Levering aanvragen in het portaal, stap voor stap"), style.heading),
        _numbered(
            [
                _("Log in op het portaal: %(url)s", url=portal_url),
                _(
                    "Open het ManagementVenster en kies bij uw school de tegel Monitoring Sociale Veiligheid."
                ),
                _(
                    "Bekijk het rapport van het huidige schooljaar en kies Levering aan de Inspectie."
                ),
                _(
                    "Vink aan dat de gegevens worden verstuurd met toestemming van het bevoegd gezag."
                ),
                _("Kies een leverdatum uit de leverdata hieronder."),
                _(
                    "Beantwoord de vragen: het niveau van verantwoording (hele BRIN of per vestiging), "
                    "de deelnemende groepen of leerjaren, of de steekproef representatief is, wie "
                    "namens het bestuur toestemming gaf en wanneer, en een contactpersoon voor de Inspectie."
                ),
                _(
                    "Bekijk en download de samenvatting die verstuurd wordt, en bevestig de aanvraag."
                ),
                _(
                    "De bestuurssecretaris krijgt een e-mail en keurt de aanvraag goed. Tot de dag "
                    "vóór de leverdatum kunt u de aanvraag wijzigen of intrekken."
                ),
            ],
            style.body,
        ),
        text(_("Leverdata in schooljaar %(year)s", year=year_name), style.heading),
    ]
    if any(days for _name, days in dates):
        for name, days in dates:
            listed = ", ".join(_day(day) for day in days) if days else _("geen")
            story.append(text(f"{name}: {listed}", style.body))
        story.append(
            text(
                _(
                    "Een leverdatum kiest u uiterlijk de dag ervoor. Na de laatste leverdatum kan "
                    "het portaal niets meer inplannen; neem dan contact op met de Inspectie."
                ),
                style.body,
            )
        )
    else:
        story.append(
            text(
                _(
                    "De leverdata van schooljaar %(year)s zijn nog niet vastgesteld.",
                    year=year_name,
                ),
                style.body,
            )
        )

    story += [
        text(_("Wat gebeurt er na de levering?"), style.heading),
        text(
            _(
                "Op de leverdatum verstuurt het portaal de samenvatting van elke goedgekeurde "
                "aanvraag naar de Inspectie, precies zoals u die vooraf kon downloaden. Het portaal "
                "bewaart het ontvangstbewijs, en school en bestuur zien daarna 'geleverd op' met de "
                "datum. Mislukt het versturen, dan probeert het portaal het opnieuw en wordt de "
                "helpdesk ingeschakeld. Gegevens van eerdere schooljaren kunnen niet meer via het "
                "portaal worden geleverd; neem daarvoor contact op met de Inspectie."
            ),
            style.body,
        ),
        text(_("Contact"), style.heading),
        text(
            _(
                "Vragen over het portaal of over uw levering? Neem contact op met de helpdesk van "
                "het portaal: %(email)s.",
                email=helpdesk_email,
            ),
            style.body,
        ),
        Spacer(1, 4 * mm),
    ]
    return build_pdf(
        story,
        title=_("Factsheet levering monitor sociale veiligheid %(year)s", year=year_name),
        header_right=_("Algemene factsheet – schooljaar %(year)s", year=year_name),
        footer_left=_("Gemaakt op %(date)s", date=_day(today)),
    )
