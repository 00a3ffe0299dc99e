"""The delivery blueprint."""
