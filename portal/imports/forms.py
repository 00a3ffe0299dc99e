"""The upload form of a survey import."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.validators import InputRequired, ValidationError


class ListField(SelectField):
    """A select field whose value must be one of its choices, with its own Dutch message.

    SelectField answers a value outside the choices (a tampered form) with WTForms'
    general "Not a valid choice", which does not say what to choose.
    """

    def __init__(self, *args, invalid_message, **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form):
        if not any(value == self.data for value, _label in self.choices):
            raise ValidationError(self.invalid_message)


class ImportForm(FlaskForm):
    """Choose school year, instrument and file format, and the file with the answers."""

    schooljaar = ListField(
        _l("Schooljaar"),
        validators=[InputRequired(_l("Kies een schooljaar."))],
        invalid_message=_l("Kies een schooljaar uit de lijst."),
    )
    instrument = ListField(
        _l("Instrument"),
        description=_l("De vragenlijst waarmee de leerlingen zijn bevraagd."),
        validators=[InputRequired(_l("Kies een instrument."))],
        invalid_message=_l("Kies een instrument uit de lijst."),
    )
    formaat = ListField(
        _l("Formaat van het bestand"),
        description=_l("Het eigen formaat van het portaal, of de export van een andere aanbieder."),
        validators=[InputRequired(_l("Kies het formaat van het bestand."))],
        invalid_message=_l("Kies een formaat uit de lijst."),
    )
    bestand = FileField(
        _l("Bestand (CSV of XLSX)"),
        description=_l(
            "Een CSV-bestand met puntkomma of komma als scheidingsteken, of een Excel-werkmap (.xlsx). De gegevens in het bestand vervangen de eerder ingelezen gegevens van dit schooljaar en instrument."
        ),
        validators=[FileRequired(_l("Kies het bestand dat u wilt inlezen."))],
    )
