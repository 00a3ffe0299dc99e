"""Rules of the field that know nothing of Flask: calendar, indicators, delivery, payload."""
