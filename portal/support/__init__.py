"""The support desk blueprint."""
