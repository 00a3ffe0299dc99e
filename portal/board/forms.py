"""Forms of the board overview: decide on several requests, give consent for several schools."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.delivery.forms import DeliveryForm
from portal.domain.payload import DeliveryAnswers

APPROVE = "goedkeuren"
REJECT = "afwijzen"


ID_PATTERN = re.compile(r"[0-9]{1,18}")


class IdListField(Field):
    """The values of the checkboxes of one name, as integer ids in the order sent.

    The template renders the checkboxes itself, one per table row. Values that are not
    whole numbers are kept in ``invalid`` so that the form can reject them.
    """

    def process_formdata(self, valuelist):
        # ASCII digits only, and few enough to fit a database id: str.isdigit() also
        # accepts characters such as "²" that int() rejects.
        valid = [value.strip() for value in valuelist if ID_PATTERN.fullmatch(value.strip())]
        self.invalid = [value for value in valuelist if not ID_PATTERN.fullmatch(value.strip())]
        self.data = list(dict.fromkeys(int(value) for value in valid))

    def _value(self):
        return ""


def _check_ids(field, empty_message):
    if getattr(field, "invalid", None):
        raise ValidationError(_l("De keuze is ongeldig. Laad de pagina opnieuw en kies opnieuw."))
    if not field.data:
        raise ValidationError(empty_message)


class BulkDecisionForm(FlaskForm):
    """Approve or reject the chosen waiting requests, with one reason for all rejections."""

    request_ids = IdListField(_l("Aanvragen"), default=list)
    action = StringField()
    reason = TextAreaField(
        _l("Reden van afwijzing"),
        description=_l("Verplicht bij afwijzen. De scholen zien deze reden."),
        validators=[Length(max=2000, message=_l("Gebruik hoogstens 2000 tekens."))],
    )

    def validate_request_ids(self, field):
        _check_ids(field, _l("Kies ten minste één aanvraag."))

    def validate_action(self, field):
        if field.data not in (APPROVE, REJECT):
            raise ValidationError(_l("Kies goedkeuren of afwijzen."))

    def validate_reason(self, field):
        if self.action.data == REJECT and not (field.data or "").strip():
            raise ValidationError(
                _l("Vul de reden van afwijzing in, zodat de scholen weten wat er moet gebeuren.")
            )


class BulkConsentForm(DeliveryForm):
    """Consent of the bevoegd gezag for several schools at once, with one leverdatum.

    The questions are those of the school's delivery form, except the groups, which are
    taken per school from the groups that have respondents in the year.
    """

    groups = None
    school_ids = IdListField(_l("Scholen"), default=list)
    consent = BooleanField(
        _l(
            "Het bevoegd gezag geeft toestemming om de gegevens van de gekozen scholen te versturen"
        ),
        validators=[DataRequired(_l("Vink aan dat het bevoegd gezag toestemming geeft."))],
    )

    def validate_school_ids(self, field):
        _check_ids(field, _l("Kies ten minste één school."))

    def answers_for(self, groups: list[str]) -> DeliveryAnswers:
        """Return the validated answers for one school with its own groups, trimmed."""
        representative = self.representative.data == "ja"
        return DeliveryAnswers(
            level=self.level.data,
            groups=", ".join(groups)[:300],
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
