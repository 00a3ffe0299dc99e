"""The delivery form: consent, leverdatum and the questions the Inspectie asks."""

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from portal.domain.payload import DeliveryAnswers

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Schools must monitor social safety since 1 August 2015 (wet Veiligheid op school), so a
# consent for delivery cannot be older.
EARLIEST_CONSENT = date(2015, 8, 1)


def _iso_date(value):
    if value in (None, "", "None"):
        return None
    if isinstance(value, date):
        return value
    # Only the YYYY-MM-DD that the form's options send; fromisoformat also takes
    # 20180401 and week dates, which no option has.
    if not ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


class DeliveryForm(FlaskForm):
    consent = BooleanField(
        _l("De gegevens worden verstuurd met toestemming van het bevoegd gezag"),
        false_values=(False, "false", "", "0", "nee", "off"),
        validators=[DataRequired(_l("Vink aan dat het bevoegd gezag toestemming heeft gegeven."))],
    )
    leverdatum = SelectField(
        _l("Leverdatum"),
        coerce=_iso_date,
        validate_choice=False,
        validators=[InputRequired(_l("Kies een leverdatum."))],
    )
    level = RadioField(
        _l("Niveau van verantwoording"),
        choices=[
            SelectChoice("vestiging", _l("Alleen deze vestiging")),
            SelectChoice("brin", _l("De hele instelling (alle vestigingen van dit BRIN-nummer)")),
        ],
        default="vestiging",
        invalid_choice_message=_l("Kies het niveau van verantwoording."),
        validators=[InputRequired(_l("Kies het niveau van verantwoording."))],
    )
    groups = StringField(
        _l("Deelnemende groepen of leerjaren"),
        description=_l("Bijvoorbeeld: groep 6, 7 en 8, of leerjaar 1 tot en met 4."),
        validators=[
            DataRequired(_l("Vul in welke groepen of leerjaren hebben meegedaan.")),
            Length(max=300, message=_l("Gebruik hoogstens 300 tekens.")),
        ],
    )
    representative = RadioField(
        _l("Is de steekproef representatief voor de leerlingen van de school?"),
        choices=[SelectChoice("ja", _l("Ja")), SelectChoice("nee", _l("Nee"))],
        invalid_choice_message=_l("Geef aan of de steekproef representatief is."),
        validators=[InputRequired(_l("Geef aan of de steekproef representatief is."))],
    )
    representative_explanation = TextAreaField(
        _l("Toelichting als de steekproef niet representatief is"),
        validators=[Length(max=2000, message=_l("Gebruik hoogstens 2000 tekens."))],
    )
    consent_name = StringField(
        _l("Naam van het lid van het bevoegd gezag dat toestemming gaf"),
        validators=[
            DataRequired(_l("Vul de naam in van wie toestemming gaf.")),
            Length(max=200, message=_l("Gebruik hoogstens 200 tekens.")),
        ],
    )
    consent_function = StringField(
        _l("Functie"),
        validators=[
            DataRequired(_l("Vul de functie in van wie toestemming gaf.")),
            Length(max=200, message=_l("Gebruik hoogstens 200 tekens.")),
        ],
    )
    consent_date = DateField(
        _l("Datum van de toestemming"),
        description=_l("Kies de datum, of typ hem als DD-MM-JJJJ, bijvoorbeeld 12-03-2018."),
        format=["%Y-%m-%d", "%d-%m-%Y"],
        invalid_value_message=_l(
            "Vul de datum van de toestemming in als DD-MM-JJJJ, bijvoorbeeld 12-03-2018."
        ),
        validators=[InputRequired(_l("Vul de datum van de toestemming in als DD-MM-JJJJ."))],
    )
    contact_name = StringField(
        _l("Contactpersoon voor de Inspectie"),
        validators=[
            DataRequired(_l("Vul een contactpersoon in.")),
            Length(max=200, message=_l("Gebruik hoogstens 200 tekens.")),
        ],
    )
    contact_email = EmailField(
        _l("E-mailadres van de contactpersoon"),
        validators=[
            DataRequired(_l("Vul het e-mailadres van de contactpersoon in.")),
            Email(
                _l("Vul een geldig e-mailadres in, zoals naam@school.nl."),
                check_deliverability=False,
            ),
            Length(max=254),
        ],
    )
    contact_phone = StringField(
        _l("Telefoonnummer van de contactpersoon (optioneel)"),
        validators=[Optional(), Length(max=40, message=_l("Gebruik hoogstens 40 tekens."))],
    )

    def __init__(
        self, *args, today: date, open_dates: list[date], whole_brin: bool = True, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.today = today
        self.whole_brin = whole_brin
        self.open_dates = open_dates
        self.leverdatum.choices = [SelectChoice("", _l("Kies een datum"))] + [
            SelectChoice(d, d.strftime("%d-%m-%Y")) for d in open_dates
        ]

    def validate_leverdatum(self, field):
        if self.leverdatum.raw_data and self.leverdatum.raw_data[0] and field.data is None:
            raise ValidationError(_l("Deze leverdatum is ongeldig. Kies een datum uit de lijst."))
        if field.data is not None and field.data <= self.today:
            raise ValidationError(
                _l("Deze leverdatum ligt niet in de toekomst. Kies een latere datum.")
            )
        if field.data is not None and field.data not in self.open_dates:
            raise ValidationError(
                _l("Op deze datum wordt niet geleverd. Kies een datum uit de lijst.")
            )

    def validate_level(self, field):
        if field.data == "brin" and not self.whole_brin:
            raise ValidationError(
                _l(
                    "U mag niet alle vestigingen van dit BRIN-nummer zien. Kies alleen deze vestiging."
                )
            )

    def validate_representative_explanation(self, field):
        if self.representative.data == "nee" and not (field.data or "").strip():
            raise ValidationError(_l("Leg uit waarom de steekproef niet representatief is."))

    def validate_consent_date(self, field):
        if field.data and field.data < EARLIEST_CONSENT:
            raise ValidationError(
                _l("Deze datum is te vroeg. Vul de datum van de toestemming in als DD-MM-JJJJ.")
            )
        if field.data and field.data > self.today:
            raise ValidationError(_l("De datum van de toestemming kan niet in de toekomst liggen."))

    def answers(self) -> DeliveryAnswers:
        """Return the validated answers, trimmed, as the payload records them."""
        representative = self.representative.data == "ja"
        return DeliveryAnswers(
            level=self.level.data,
            groups=self.groups.data.strip(),
            representative=representative,
            representative_explanation=(
                "" if representative else self.representative_explanation.data.strip()
            ),
            consent_name=self.consent_name.data.strip(),
            consent_function=self.consent_function.data.strip(),
            consent_date=self.consent_date.data,
            contact_name=self.contact_name.data.strip(),
            contact_email=self.contact_email.data.strip(),
            contact_phone=(self.contact_phone.data or "").strip(),
        )


class ChangeForm(DeliveryForm):
    """The delivery form filled with a request's answers; a secretary may approve at once."""

    approve = BooleanField(_l("Wijziging meteen goedkeuren namens het bevoegd gezag"))

    def load(self, request) -> None:
        """Fill the fields from a stored request."""
        self.consent.data = True
        self.leverdatum.data = request.leverdatum
        self.level.data = request.level
        self.groups.data = request.groups
        self.representative.data = "ja" if request.representative else "nee"
        self.representative_explanation.data = request.representative_explanation
        self.consent_name.data = request.consent_name
        self.consent_function.data = request.consent_function
        self.consent_date.data = request.consent_date
        self.contact_name.data = request.contact_name
        self.contact_email.data = request.contact_email
        self.contact_phone.data = request.contact_phone


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token, for buttons such as withdraw or approve."""


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reden van afwijzing"),
        validators=[
            DataRequired(
                _l("Vul de reden van afwijzing in, zodat de school weet wat er moet gebeuren.")
            ),
            Length(max=2000, message=_l("Gebruik hoogstens 2000 tekens.")),
        ],
    )
