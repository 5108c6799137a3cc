"""`deskgrid.logs`: one file per entry point in the data folder's logs/ (0600, rotated), the
levels of -v, idempotence, and secrets replaced by [redacted] wherever they would appear."""

from __future__ import annotations

import logging
import os
import stat
import sys

import pytest

from deskgrid import logs

log = logging.getLogger("deskgrid.test")


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_the_file_is_in_the_logs_folder_and_private(deskgrid_home):
    path = logs.setup_logging("grid", console=False)
    assert path == deskgrid_home / "logs" / "grid.log" == logs.log_file("grid")
    assert logs.active_log_file() == path
    log.info("the grid starts")
    log.debug("a detail")
    flush()
    text = path.read_text()
    assert "INFO deskgrid.test: the grid starts" in text and "a detail" not in text
    assert f" {os.getpid()} " in text  # the process id, after the time
    assert text[:4].isdigit()  # the time first
    if os.name == "posix":
        assert mode(path) == 0o600
        assert mode(path.parent) == 0o700


def test_setting_up_twice_adds_no_handler(deskgrid_home):
    before = len(logging.getLogger().handlers)
    logs.setup_logging("worker", verbose=1)
    handlers = list(logging.getLogger().handlers)
    assert len(handlers) == before + 2  # the file and standard error
    logs.setup_logging("worker", verbose=1)
    assert logging.getLogger().handlers == handlers
    log.warning("once")
    flush()
    assert logs.log_file("worker").read_text().count("once") == 1


def test_another_setup_replaces_the_first(deskgrid_home):
    before = len(logging.getLogger().handlers)
    logs.setup_logging("worker")
    logs.setup_logging("node", console=False)
    assert len(logging.getLogger().handlers) == before + 1
    log.warning("to the node's file")
    flush()
    assert "to the node's file" in logs.log_file("node").read_text()
    assert "to the node's file" not in logs.log_file("worker").read_text()
    logs.reset_logging()
    assert len(logging.getLogger().handlers) == before and logs.active_log_file() is None


def test_the_file_rotates(deskgrid_home, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 4000)
    path = logs.setup_logging("oracle", console=False)
    for i in range(400):
        log.info("line %04d %s", i, "x" * 60)
    flush()
    rotated = sorted(p.name for p in path.parent.iterdir())
    assert rotated == ["oracle.log", "oracle.log.1", "oracle.log.2", "oracle.log.3"]
    assert "line 0399" in path.read_text()
    for file in path.parent.iterdir():
        assert file.stat().st_size <= 4000 + 200
        if os.name == "posix":
            assert mode(file) == 0o600


@pytest.mark.parametrize(
    ("verbose", "on_stderr", "not_on_stderr", "in_file"),
    [
        (0, ["WARNING"], ["INFO", "DEBUG"], ["WARNING", "INFO"]),
        (1, ["WARNING", "INFO"], ["DEBUG"], ["WARNING", "INFO"]),
        (2, ["WARNING", "INFO", "DEBUG"], [], ["WARNING", "INFO", "DEBUG"]),
    ],
)
def test_verbose_levels(deskgrid_home, capsys, verbose, on_stderr, not_on_stderr, in_file):
    path = logs.setup_logging("chain", verbose=verbose)
    assert logs.verbosity() == verbose
    for level in ("DEBUG", "INFO", "WARNING"):
        log.log(getattr(logging, level), "a %s line", level.lower())
    flush()
    err, text = capsys.readouterr().err, path.read_text()
    for level in on_stderr:
        assert f"{level} deskgrid.test: a {level.lower()} line" in err
    for level in not_on_stderr:
        assert f"a {level.lower()} line" not in err
    for level in in_file:
        assert f"a {level.lower()} line" in text
    assert ("a debug line" in text) == (verbose >= 2)


def test_chatty_libraries_are_quiet_unless_vv(deskgrid_home):
    path = logs.setup_logging("run", console=False)
    logging.getLogger("httpx").info("HTTP Request: GET /api/v1/work")
    logging.getLogger("deskgrid.oracle.oracle").info("task 0x1: finalized on chain")
    flush()
    text = path.read_text()
    assert "finalized on chain" in text and "HTTP Request" not in text
    logs.setup_logging("run", verbose=2, console=False)
    logging.getLogger("httpx").info("HTTP Request: GET /api/v1/work")
    flush()
    assert "HTTP Request" in path.read_text()


def test_file_only_records_stay_off_stderr(deskgrid_home, capsys):
    path = logs.setup_logging("grid")
    log.error("the command failed: a sentence", extra=logs.FILE_ONLY)
    flush()
    assert "a sentence" in path.read_text()
    assert "a sentence" not in capsys.readouterr().err


SECRET = "pa55-word-of-the-volunteer"


def test_a_registered_secret_is_redacted_in_messages_args_and_tracebacks(deskgrid_home, capsys):
    path = logs.setup_logging("worker")
    logs.redact(SECRET)
    log.warning(f"in the message {SECRET}")
    log.warning("in the arguments %s and %r", SECRET, {"password": SECRET})
    try:
        raise ValueError(f"the keystore did not open with {SECRET}")
    except ValueError:
        log.exception("in a traceback")
    log.warning("in a stack", stack_info=True)
    flush()
    for text in (path.read_text(), capsys.readouterr().err):
        assert SECRET not in text
        assert "in the message [redacted]" in text
        assert "in the arguments [redacted] and {'password': '[redacted]'}" in text
        assert "ValueError: the keystore did not open with [redacted]" in text
        assert "Traceback (most recent call last)" in text


def test_a_key_as_bytes_is_redacted_as_hex_with_or_without_0x(deskgrid_home):
    key = bytes(range(1, 33))
    path = logs.setup_logging("node", console=False)
    logs.redact(key)
    logs.redact("0x" + "AB" * 32)  # hex text: its lower-case body too
    log.warning("keys %s 0x%s %s %s", key.hex(), key.hex(), key.hex().upper(), "ab" * 32)
    flush()
    text = path.read_text()
    assert key.hex() not in text and "ab" * 32 not in text
    assert "keys [redacted] 0x[redacted] [redacted] [redacted]" in text


def test_uncaught_exceptions_are_logged_with_their_traceback(deskgrid_home):
    path = logs.setup_logging("deskgrid", console=False)
    logs.redact(SECRET)
    try:
        raise RuntimeError(f"boom {SECRET}")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    flush()
    text = path.read_text()
    assert "CRITICAL deskgrid: uncaught exception" in text
    assert "RuntimeError: boom [redacted]" in text and SECRET not in text
    logs.reset_logging()
    assert sys.excepthook is not logs._log_uncaught


def test_the_registry_is_cheap_and_ignores_short_strings():
    text = "nothing to hide"
    assert logs.scrub(text) is text  # empty registry: the same object back
    logs.redact("")
    logs.redact(None)
    logs.redact("abc")  # too short to be a secret: it would redact ordinary words
    assert logs.scrub("abc abc") == "abc abc"
    logs.redact("abcdef-token")
    logs.redact("abcdef")  # a shorter secret inside a longer one: the longer goes first
    assert logs.scrub("x abcdef-token y abcdef") == "x [redacted] y [redacted]"


def test_a_child_stderr_file_is_appended_and_rotated_before_opening(deskgrid_home, monkeypatch):
    with logs.open_stderr_file("node-stderr") as stream:
        stream.write(b"first\n")
    with logs.open_stderr_file("node-stderr") as stream:
        stream.write(b"second\n")
    path = logs.log_file("node-stderr")
    assert path.read_bytes() == b"first\nsecond\n"
    if os.name == "posix":
        assert mode(path) == 0o600
    monkeypatch.setattr(logs, "MAX_BYTES", 5)
    with logs.open_stderr_file("node-stderr") as stream:
        stream.write(b"third\n")
    assert path.read_bytes() == b"third\n"
    assert path.with_name("node-stderr.log.1").read_bytes() == b"first\nsecond\n"


def test_cli_verbose_before_or_after_the_subcommand(deskgrid_home, capsys):
    from deskgrid.cli import build_parser, log_name, main

    parser = build_parser()
    for argv, count in (
        (["grid", "serve"], 0),
        (["-v", "grid", "serve"], 1),
        (["grid", "serve", "-vv"], 2),
        (["-v", "grid", "-v", "serve"], 2),
    ):
        args = parser.parse_args(argv)
        assert args.verbose + getattr(args, "sub_verbose", 0) == count, argv
        assert log_name(args) == "grid"
    assert log_name(parser.parse_args(["--self-test"])) == "self-test"
    assert log_name(parser.parse_args(["--tray"])) == "deskgrid"
    assert log_name(parser.parse_args(["run", "vanity", "--pattern", "1A"])) == "run"

    assert main(["vanity", "1A", "--cores", "1", "--json", "-v"]) == 0
    flush()
    text = logs.log_file("vanity").read_text()
    assert "vanity starts" in text and "vanity ended with exit code 0" in text
    assert logs.verbosity() == 1
    wif = __import__("json").loads(capsys.readouterr().out)["wif"]
    assert wif not in text and logs.scrub(wif) == "[redacted]"


def test_the_node_child_is_as_verbose_as_the_app(deskgrid_home):
    from deskgrid.desktop.node_backend import node_command

    assert "-v" not in node_command()
    logs.setup_logging("deskgrid", verbose=2, console=False)
    assert node_command().count("-v") == 2
