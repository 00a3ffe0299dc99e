"""Forms of the support desk: the search box and the re-queue of a failed delivery."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, HiddenField, SearchField, TextAreaField
from wtforms.validators import DataRequired, Length

# Pages a re-queue form can return to. Any other value returns to the school page.
RETURN_PAGES = ("school", "leverdatum")


class SearchForm(Form):
    """The search box, sent with GET, so it carries no CSRF token."""

    q = SearchField(
        _l("Zoek een school of bestuur"),
        description=_l(
            "Op naam (of een deel ervan), BRIN-nummer (15KU), locatiecode (15KU00) of "
            "bestuursnummer (41234)."
        ),
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired(_l("Vul een naam, BRIN-nummer, locatiecode of bestuursnummer in.")),
            Length(min=2, max=100, message=_l("Vul tussen 2 en 100 tekens in.")),
        ],
    )


class RequeueForm(FlaskForm):
    """Put a failed delivery back in the schedule, with an optional note for the history."""

    note = TextAreaField(
        _l("Toelichting (optioneel)"),
        description=_l("Komt in de statusgeschiedenis en het auditlog, bijvoorbeeld de oorzaak."),
        validators=[Length(max=500, message=_l("Gebruik hoogstens 500 tekens."))],
    )
    back_to = HiddenField(default="school")
