"""The board blueprint."""
