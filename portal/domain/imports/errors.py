"""Errors of an import: a whole file rejected, or a list of problems per row and column."""

from dataclasses import asdict, dataclass

# The report shows this many problems; the total is counted in full.
MAX_REPORTED = 50


@dataclass(frozen=True)
class Problem:
    """One reason a file is rejected: where it is (line and column, when known) and the fix."""

    message: str
    row: int | None = None
    column: str = ""
    value: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


class FileRejected(Exception):
    """The file as a whole cannot be read or checked; the message is Dutch."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ProblemList:
    """Problems found while checking rows: the first MAX_REPORTED kept, all counted."""

    def __init__(self):
        self.items: list[Problem] = []
        self.total = 0

    def add(self, message: str, row: int | None = None, column: str = "", value: str = ""):
        self.total += 1
        if len(self.items) < MAX_REPORTED:
            # A long cell is cut so that the report stays readable.
            self.items.append(Problem(message, row, column, value[:80]))

    def __bool__(self) -> bool:
        return self.total > 0


class ImportRejected(Exception):
    """The file was checked and has problems, so nothing was imported."""

    def __init__(self, problems: list[Problem], total: int):
        super().__init__(f"{total} problems")
        self.problems = problems
        self.total = total
