"""The management blueprint."""
