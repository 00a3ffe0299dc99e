"""Mail transports: an SMTP server, or .eml files in a folder when no server is set.

``MAIL_URL`` chooses the transport:

- unset or empty: write each message to ``<PORTAL_DATA_DIR>/mail/<name>.eml``;
- ``smtp://host:port`` (port 25 when left out): hand each message to that server
  without authentication;
- ``smtp+starttls://user:password@host:port`` (port 587 when left out): switch to TLS
  with STARTTLS, verify the server's certificate, then log in when a user is given.

A transport is a context manager: entering it opens the connection, so a server that is
down fails there, before any message is tried.
"""

import logging
import os
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

# Seconds that one SMTP connect or command may take before it fails.
SMTP_TIMEOUT_SECONDS = 30


class MailSendError(Exception):
    """One message could not be sent, but other messages may still go through.

    ``summary`` describes the error for the log, without addresses or message content.
    The full text may contain the recipient's address.
    """

    def __init__(self, message: str, summary: str | None = None):
        super().__init__(message)
        self.summary = summary or message


class MailConnectionError(MailSendError):
    """The transport cannot send at all right now, for example because the server is down."""


class FileMailTransport:
    """Write each message as ``<directory>/<name>.eml``.

    The name is fixed per message, so sending it again overwrites the same file.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def __enter__(self) -> "FileMailTransport":
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise MailConnectionError(
                f"cannot create mail folder {self.directory}: {error}"
            ) from error
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def send(self, message: EmailMessage, name: str) -> str:
        """Write ``message`` atomically and return the file's path."""
        path = self.directory / f"{name}.eml"
        partial = path.with_suffix(".eml.partial")
        try:
            with open(partial, "wb") as handle:
                handle.write(message.as_bytes())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)
        except OSError as error:
            raise MailSendError(f"cannot write {path}: {error}") from error
        return str(path)


class SMTPMailTransport:
    """Send messages through one SMTP connection, opened when the transport is entered."""

    def __init__(
        self,
        host: str,
        port: int,
        starttls: bool = False,
        username: str = "",
        password: str = "",
        timeout: float = SMTP_TIMEOUT_SECONDS,
    ):
        self.host = host
        self.port = port
        self.starttls = starttls
        self.username = username
        self.password = password
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "SMTPMailTransport":
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except OSError as error:
            raise MailConnectionError(
                f"cannot connect to SMTP server {self.host}:{self.port}: {error}"
            ) from error
        try:
            if self.starttls:
                smtp.ehlo()
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
        except OSError as error:
            smtp.close()
            # The error text of a failed login names neither the user nor the password.
            raise MailConnectionError(
                f"SMTP session with {self.host}:{self.port} failed at STARTTLS or login: {error}"
            ) from error
        self._smtp = smtp
        logger.info(
            "smtp connected host=%s port=%s starttls=%s login=%s",
            self.host,
            self.port,
            self.starttls,
            bool(self.username),
        )
        return self

    def __exit__(self, *exc_info) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (OSError, smtplib.SMTPException):
            self._smtp.close()
        self._smtp = None

    def send(self, message: EmailMessage, name: str) -> str:
        """Hand ``message`` to the server and return the server and the message id."""
        if self._smtp is None:
            raise MailConnectionError("SMTP transport used outside its with block")
        # smtplib.SMTPException is a subclass of OSError, so the order of these matters.
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPServerDisconnected as error:
            raise MailConnectionError(
                f"connection to SMTP server {self.host}:{self.port} lost: {error}"
            ) from error
        except smtplib.SMTPException as error:
            raise MailSendError(
                f"SMTP server {self.host}:{self.port} rejected the message: {error}",
                _smtp_summary(error),
            ) from error
        except OSError as error:
            raise MailConnectionError(
                f"connection to SMTP server {self.host}:{self.port} failed: {error}"
            ) from error
        return f"smtp {self.host}:{self.port} {message['Message-ID']}"


def _smtp_summary(error: smtplib.SMTPException) -> str:
    """Describe an SMTP rejection by class and reply code, which contain no address."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _reply in error.recipients.values()})
        return f"SMTPRecipientsRefused codes={codes}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__} code={error.smtp_code}"
    return type(error).__name__


def make_mail_transport(mail_url: str, data_dir: Path) -> FileMailTransport | SMTPMailTransport:
    """Return the transport that ``mail_url`` names, or raise ValueError for an invalid one."""
    if not mail_url:
        return FileMailTransport(Path(data_dir) / "mail")
    parts = urlsplit(mail_url)
    if parts.scheme not in ("smtp", "smtp+starttls"):
        raise ValueError(
            f"MAIL_URL has unsupported scheme {parts.scheme!r}; "
            "use smtp://host:port or smtp+starttls://user:password@host:port"
        )
    if not parts.hostname:
        raise ValueError("MAIL_URL has no host; use smtp://host:port")
    starttls = parts.scheme == "smtp+starttls"
    username = unquote(parts.username or "")
    if username and not starttls:
        raise ValueError(
            "MAIL_URL contains a user for a plain smtp:// connection; use smtp+starttls:// "
            "so the password is not sent in clear text"
        )
    try:
        port = parts.port or (587 if starttls else 25)
    except ValueError as error:
        raise ValueError("MAIL_URL has an invalid port; use a number from 1 to 65535") from error
    return SMTPMailTransport(
        parts.hostname,
        port,
        starttls=starttls,
        username=username,
        password=unquote(parts.password or ""),
    )
