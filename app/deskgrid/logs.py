"""One logging setup for every entry point, and the secrets no log may show.

`setup_logging(name)` sends the process's records to `<data>/logs/<name>.log`: one file per
entry point — `deskgrid.log` for the app (with or without `--tray`), `node.log` for the local
node's child process, `self-test.log` for `--self-test`, and the subcommand's name for each
subcommand (`grid.log`, `worker.log`, `oracle.log`, `demo.log`, `run.log`, `chain.log`,
`vanity.log`, `vanity-combine.log`). Each file is rotated at `MAX_BYTES` with `BACKUPS` old
copies (`grid.log.1`, …), created readable by its owner only (0600, in a 0700 folder): logs
hold addresses and hosts. The file gets INFO and above (DEBUG with `-vv`); with `console`,
standard error gets WARNING and above (INFO with `-v`, DEBUG with `-vv`). Uncaught
exceptions (main thread and other threads) are logged with their traceback.

Secrets: code that holds one (an unlocked private key, a keystore password, the mnemonic of a
new wallet, a grid token, the requester's split-key secret) calls `redact(secret)`, and every
handler set up here replaces it with `[redacted]` in messages, arguments, tracebacks and
stacks. This is a second line of defence — nothing should log a secret in the first place.
The registry holds the secrets in this process's memory for as long as it runs (they are
never written anywhere); the code that registered one holds it anyway.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from deskgrid import paths

LOGS_FOLDER = "logs"
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 3
FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
CONSOLE_FORMAT = "%(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
MIN_SECRET = 6  # shorter strings would redact ordinary words; no secret here is that short
# Chatty libraries: one INFO line per HTTP request or RPC call. WARNING in the file unless -vv.
NOISY = ("httpx", "httpcore", "hpack", "uvicorn.access", "web3", "urllib3", "docker", "qasync")
# `extra=FILE_ONLY`: a record for the file only (the console already said it another way).
FILE_ONLY = {"file_only": True}

# -- secrets --------------------------------------------------------------------------------

_secrets: tuple[str, ...] = ()  # longest first; replaced whole, never changed in place
_secrets_lock = threading.Lock()


def redact(secret: str | bytes | None) -> None:
    """Never show `secret` in a log. Bytes (a private key) are registered as hex (either
    case); a string as it is and, when it is 0x-hex, without its prefix too."""
    global _secrets
    if not secret:
        return
    forms: set[str] = set()
    if isinstance(secret, bytes | bytearray):
        body = bytes(secret).hex()
    else:
        text = secret.strip()
        forms.add(text)
        body = text[2:] if text[:2].lower() == "0x" else ""
        if not all(c in "0123456789abcdefABCDEF" for c in body):
            body = ""
    if body:
        forms |= {body.lower(), body.upper()}
    forms = {f for f in forms if len(f) >= MIN_SECRET}
    with _secrets_lock:
        if forms <= set(_secrets):
            return
        _secrets = tuple(sorted(set(_secrets) | forms, key=len, reverse=True))


def scrub(text: str) -> str:
    """`text` with every registered secret replaced by `[redacted]`."""
    known = _secrets
    if not known or not text:
        return text
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def forget_secrets() -> None:
    """Empty the registry (tests)."""
    global _secrets
    with _secrets_lock:
        _secrets = ()


class RedactFilter(logging.Filter):
    """Rewrites a record without its secrets before a handler formats it: the message with
    its arguments, the formatted exception and the stack."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # bad arguments: keep the template only
            message = f"{record.msg} [arguments not shown]"
        record.msg, record.args = scrub(str(message)), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


# -- files ------------------------------------------------------------------------------------


def log_folder() -> Path:
    """`<data>/logs`, created readable by its owner only."""
    folder = paths.data_dir() / LOGS_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    with contextlib.suppress(OSError):
        folder.chmod(0o700)
    return folder


def log_file(name: str) -> Path:
    """Where the entry point `name` logs (`deskgrid`, `node`, `grid`, …)."""
    return log_folder() / f"{name}.log"


def _open_private(path: Path, mode: str, encoding: str | None) -> IO:
    """Open for appending (or writing), creating the file with mode 0600."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0), 0o600)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)  # an older file made with wider permissions
    if "b" in mode:
        return os.fdopen(fd, mode)
    return os.fdopen(fd, mode, encoding=encoding, errors="backslashreplace")


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotating by size, files created 0600. A rotation that fails (another process has the
    file open, as Windows refuses) is skipped: the file grows until the next try."""

    def _open(self) -> IO:
        return _open_private(Path(self.baseFilename), self.mode, self.encoding)

    def doRollover(self) -> None:  # noqa: N802 - logging's name
        try:
            super().doRollover()
        except OSError:
            if self.stream is None:
                self.stream = self._open()


def open_stderr_file(name: str) -> IO[bytes]:
    """`<data>/logs/<name>.log` for a child process's standard error, opened for appending
    (0600). The file is rotated here, before it is opened, when it has outgrown `MAX_BYTES`:
    no handler rotates it while a process writes to it."""
    path = log_file(name)
    with contextlib.suppress(OSError):
        if path.stat().st_size > MAX_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    return _open_private(path, "ab", None)


# -- setup ------------------------------------------------------------------------------------


class _Stderr(logging.StreamHandler):
    """Standard error as it is when a record is written (it may be replaced meanwhile)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "file_only", False) and bool(super().filter(record))

    def emit(self, record: logging.LogRecord) -> None:
        if sys.stderr is not None:  # a windowed build has none
            super().emit(record)


@dataclass
class _State:
    file: Path | None = None
    verbose: int = 0
    handlers: list[logging.Handler] = field(default_factory=list)
    root_level: int | None = None
    hooks: tuple[object, object] | None = None


_state = _State()
_setup_lock = threading.RLock()


def _console_level(verbose: int) -> int:
    return logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG


def setup_logging(name: str, *, verbose: int = 0, console: bool = True) -> Path:
    """Log this process to `<data>/logs/<name>.log` (and to standard error with `console`);
    returns the file. Calling it again with the same arguments changes nothing; with others
    it replaces the previous setup, so no record is ever written twice."""
    with _setup_lock:
        path = log_file(name)
        if _state.file == path and _state.verbose == verbose and _state.handlers:
            has_console = any(isinstance(h, _Stderr) for h in _state.handlers)
            if has_console == console:
                return path
        reset_logging()
        redact_filter = RedactFilter()
        file_handler = PrivateRotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
        file_handler.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
        file_handler.setFormatter(logging.Formatter(FORMAT))
        handlers: list[logging.Handler] = [file_handler]
        if console:
            stderr = _Stderr()
            stderr.setLevel(_console_level(verbose))
            stderr.setFormatter(logging.Formatter(CONSOLE_FORMAT))
            handlers.append(stderr)
        root = logging.getLogger()
        _state.root_level = root.level
        for handler in handlers:
            handler.addFilter(redact_filter)
            root.addHandler(handler)
        root.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
        for noisy in NOISY:
            logging.getLogger(noisy).setLevel(logging.INFO if verbose >= 2 else logging.WARNING)
        _state.file, _state.verbose, _state.handlers = path, verbose, handlers
        _state.hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = _log_uncaught
        threading.excepthook = _log_uncaught_in_thread
        return path


def reset_logging() -> None:
    """Undo `setup_logging`: its handlers closed and removed, the hooks given back."""
    with _setup_lock:
        root = logging.getLogger()
        for handler in _state.handlers:
            root.removeHandler(handler)
            handler.close()
        if _state.root_level is not None:
            root.setLevel(_state.root_level)
        if _state.handlers:
            for noisy in NOISY:
                logging.getLogger(noisy).setLevel(logging.NOTSET)
        if _state.hooks is not None:
            sys.excepthook, threading.excepthook = _state.hooks  # type: ignore[assignment]
        _state.file, _state.verbose, _state.handlers = None, 0, []
        _state.root_level, _state.hooks = None, None


def active_log_file() -> Path | None:
    """The file this process logs to (None before `setup_logging`)."""
    return _state.file


def verbosity() -> int:
    """The `-v` count this process was set up with (child processes get the same)."""
    return _state.verbose


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    logging.getLogger("deskgrid").critical("uncaught exception", exc_info=(kind, exc, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
    logging.getLogger("deskgrid").error("uncaught exception in %s", name, exc_info=exc_info)
