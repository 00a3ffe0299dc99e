"""The upload form of a survey import."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.validators import InputRequired


class ImportForm(FlaskForm):
    """Choose school year, instrument and file format, and the file with the answers."""

    schooljaar = SelectField(
        _l("Schooljaar"), validators=[InputRequired(_l("Kies een schooljaar."))]
    )
    instrument = SelectField(
        _l("Instrument"),
        description=_l("De vragenlijst waarmee de leerlingen zijn bevraagd."),
        validators=[InputRequired(_l("Kies een instrument."))],
    )
    formaat = SelectField(
        _l("Formaat van het bestand"),
        description=_l("Het eigen formaat van het portaal, of de export van een andere aanbieder."),
        validators=[InputRequired(_l("Kies het formaat van het bestand."))],
    )
    bestand = FileField(
        _l("Bestand (CSV of XLSX)"),
        description=_l(
            "Een CSV-bestand met puntkomma of komma als scheidingsteken, of een Excel-werkmap (.xlsx). De gegevens in het bestand vervangen de eerder ingelezen gegevens van dit schooljaar en instrument."
        ),
        validators=[FileRequired(_l("Kies het bestand dat u wilt inlezen."))],
    )
