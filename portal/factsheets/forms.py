"""The support desk's form to generate factsheets in bulk."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Optional

SCOPE_CHOICES = [
    SelectChoice("school", _l("Eén school (locatiecode)")),
    SelectChoice("board", _l("Alle scholen van een bestuur (bestuursnummer)")),
    SelectChoice("all", _l("Alle scholen met gegevens in het schooljaar")),
]


class BatchForm(FlaskForm):
    """Choose which schools get a factsheet, and for which school year."""

    scope = RadioField(
        _l("Voor wie"),
        choices=SCOPE_CHOICES,
        default="school",
        validators=[InputRequired(_l("Kies voor wie de factsheets worden gemaakt."))],
    )
    school_code = StringField(
        _l("Locatiecode"),
        description=_l("BRIN-nummer en vestigingsnummer, bijvoorbeeld 15KU00."),
        filters=[lambda value: value.strip().upper() if value else value],
        validators=[Optional()],
    )
    board_number = StringField(
        _l("Bestuursnummer"),
        description=_l("Het nummer van het bevoegd gezag, bijvoorbeeld 41234."),
        filters=[lambda value: value.strip() if value else value],
        validators=[Optional()],
    )
    schooljaar = SelectField(
        _l("Schooljaar"),
        validators=[InputRequired(_l("Kies een schooljaar."))],
    )
