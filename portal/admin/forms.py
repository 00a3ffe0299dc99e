"""Forms of the admin pages: registry upload and confirmation, comparison freeze."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Optional

from portal.domain.registry import BOARDS, PUPILS, SCHOOLS

KIND_CHOICES = [
    SelectChoice(BOARDS, _l("Bevoegde gezagen (besturen)")),
    SelectChoice(SCHOOLS, _l("Vestigingen (scholen)")),
    SelectChoice(PUPILS, _l("Leerlingaantallen per 1 oktober")),
]

MOMENT_CHOICES = [
    SelectChoice("now", _l("Nu vastzetten")),
    SelectChoice("date", _l("Vastzetten op een datum")),
]


class RegistryUploadForm(FlaskForm):
    """Upload a DUO registry file of one kind."""

    kind = RadioField(
        _l("Soort bestand"),
        choices=KIND_CHOICES,
        validators=[InputRequired(_l("Kies welk soort bestand u uploadt."))],
    )
    schooljaar = SelectField(
        _l("Schooljaar van de telling"),
        description=_l(
            "Alleen voor leerlingaantallen: de telling van 1 oktober 2017 hoort bij "
            "schooljaar 2017-2018."
        ),
        validators=[Optional()],
    )
    file = FileField(
        _l("Bestand (CSV van DUO)"),
        description=_l(
            "Puntkomma als scheidingsteken, Windows-1252 of UTF-8, met de kopregel van DUO."
        ),
    )


class RegistryConfirmForm(FlaskForm):
    """Apply, or cancel, an uploaded file that the admin has seen the summary of."""

    token = HiddenField()
    sha256 = HiddenField()


class FreezeForm(FlaskForm):
    """Freeze the comparison values of a school year now, or plan it for a date."""

    schooljaar = SelectField(
        _l("Schooljaar"), validators=[InputRequired(_l("Kies een schooljaar."))]
    )
    moment = RadioField(
        _l("Wanneer"),
        choices=MOMENT_CHOICES,
        default="now",
        validators=[InputRequired(_l("Kies of u nu vastzet of op een datum."))],
    )
    datum = StringField(
        _l("Datum"),
        description=_l("Alleen bij ‘Vastzetten op een datum’, bijvoorbeeld 2018-05-01."),
        filters=[lambda value: value.strip() if value else value],
    )


class PlanCancelForm(FlaskForm):
    """Remove the planned freeze date of a school year."""

    schooljaar = HiddenField()
