"""Run the real portal stack as a subprocess and find the Chromium that drives it.

The browser tests start `portal serve` (gunicorn, an RQ worker with its cron scheduler)
and, when they stop it, check that none of its child processes was left behind.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORTAL = ROOT / ".venv" / "bin" / "portal"
# A gunicorn access-log line ends with: "METHOD /path HTTP/1.1" STATUS BYTES ...
SERVER_ERROR = re.compile(r'HTTP/[\d.]+" 5\d\d ')

# Without the background-networking switches Chromium keeps connecting to Google's hosts,
# which fails on a machine without internet access. Playwright adds --user-data-dir itself,
# from the user_data_dir argument of launch_persistent_context.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str:
    """Return the path of Debian's chromium, or raise RuntimeError saying how to install it."""
    path = shutil.which("chromium")
    if path is None:
        raise RuntimeError(
            "chromium not found on PATH: the browser tests need Debian's chromium. "
            "Install it with `make browser-deps` (apt-get install chromium chromium-driver)."
        )
    return path


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_portal(args: list[str], env: dict[str, str], timeout: float = 60) -> str:
    """Run one `portal` subcommand and return its stdout.

    Raises AssertionError with both outputs when the command exits non-zero.
    """
    result = subprocess.run(
        [str(PORTAL), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"`portal {' '.join(args)}` exited with {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result.stdout


def _process_table() -> dict[int, tuple[int, str, int]]:
    """Return pid -> (parent pid, state, start time in clock ticks) of every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while it was being read
        # The command name in brackets may contain spaces, so split after its closing bracket.
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), fields[0], int(fields[19]))
    return table


def _descendants(pid: int) -> dict[int, int]:
    """Return pid -> start time of every live descendant of ``pid``."""
    table = _process_table()
    found: dict[int, int] = {}
    parents = [pid]
    while parents:
        parent = parents.pop()
        for child, (parent_pid, state, started) in table.items():
            if parent_pid == parent and state != "Z" and child not in found:
                found[child] = started
                parents.append(child)
    return found


def _still_running(processes: dict[int, int]) -> list[tuple[int, str]]:
    """Return (pid, command line) of the processes that live on, matched by start time."""
    table = _process_table()
    running = []
    for pid, started in processes.items():
        if pid in table and table[pid][2] == started and table[pid][1] != "Z":
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            running.append((pid, command.decode(errors="replace").strip()))
    return running


class PortalServer:
    """`portal serve --port PORT` in a session of its own, with its output in a log file."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "PortalServer":
        """Start the stack and wait until /healthz reports ok, or raise with the log."""
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(PORTAL), "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        last_state = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"portal serve exited with {self.process.returncode} before it was "
                    f"healthy\n{self.log()}"
                )
            last_state = self._health()
            if last_state == "ok":
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"portal serve on {self.url} was not healthy within {timeout} s "
            f"(last /healthz: {last_state})\n{self.log()}"
        )

    def _health(self) -> str:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return json.load(response).get("status", "no status")
        except urllib.error.HTTPError as error:
            return f"HTTP {error.code}: {error.read().decode(errors='replace')}"
        except (urllib.error.URLError, OSError) as error:
            return f"no connection: {error}"

    def log(self, last_lines: int = 150) -> str:
        """Return the end of the server's output, for failure messages."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-last_lines:])

    def errors(self) -> list[str]:
        """Return the log lines of 5xx responses and of the tracebacks the stack wrote.

        /healthz answers 503 by design while the worker is still starting, and the
        start-up wait polls it, so its lines are not errors.
        """
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [
            line
            for line in lines
            if (SERVER_ERROR.search(line) and "GET /healthz " not in line)
            or line.startswith("Traceback")
        ]

    def stop(self, timeout: float = 30) -> list[tuple[int, str]]:
        """Send SIGTERM to `portal serve` and wait for it and its children to end.

        The children may run in sessions of their own, so they are recorded before the
        signal. Returns those still alive afterwards. They have been killed with SIGKILL,
        and the caller should treat them as a failure.
        """
        if self.process is None:
            return []
        children = _descendants(self.process.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

        # Children normally end before `portal serve` exits, but a straggler gets 5 s more.
        deadline = time.monotonic() + 5
        leftovers = _still_running(children)
        while leftovers and time.monotonic() < deadline:
            time.sleep(0.1)
            leftovers = _still_running(children)
        for pid, _command in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process = None
        return leftovers
