"""The import blueprint: survey results in from CSV and XLSX files."""
