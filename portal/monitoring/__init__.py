"""The monitoring blueprint."""
