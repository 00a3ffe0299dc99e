"""The factsheets blueprint."""
