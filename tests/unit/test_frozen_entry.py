"""How the app command is chosen in a frozen build, and the hidden `--run-app` entry."""

from __future__ import annotations

import sys

import pytest

from deskgrid import cli
from deskgrid.worker.native_runner import NativeRunner, app_command


def test_from_source_the_app_runs_with_this_interpreter(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert app_command() == [sys.executable, "-s", "-m", "deskgrid.apps.run"]
    assert NativeRunner().command == app_command()


def test_frozen_the_app_runs_through_the_program_itself(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/deskgrid/DeskGrid")
    assert app_command() == ["/opt/deskgrid/DeskGrid", "--run-app"]
    assert NativeRunner().command == ["/opt/deskgrid/DeskGrid", "--run-app"]


def test_an_explicit_command_still_wins(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert NativeRunner(command=["x", "y"]).command == ["x", "y"]


def test_run_app_goes_to_the_app_entry_without_building_the_parser(
    monkeypatch: pytest.MonkeyPatch,
):
    import deskgrid.apps.run as run

    seen: list[list[str]] = []
    monkeypatch.setattr(run, "main", lambda argv: seen.append(list(argv)) or 7)
    monkeypatch.setattr(cli, "build_parser", lambda: pytest.fail("parser built"))
    assert cli.main(["--run-app", "vanity", "--params", "p.json"]) == 7
    assert seen == [["vanity", "--params", "p.json"]]


def test_frozen_main_lets_multiprocessing_children_run_first(monkeypatch: pytest.MonkeyPatch):
    import deskgrid.apps.run as run

    calls: list[str] = []
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(cli.multiprocessing, "freeze_support", lambda: calls.append("freeze"))
    monkeypatch.setattr(run, "main", lambda argv: calls.append("app") or 0)
    assert cli.main(["--run-app", "vanity"]) == 0
    assert calls == ["freeze", "app"]


def test_from_source_main_leaves_multiprocessing_alone(monkeypatch: pytest.MonkeyPatch):
    import deskgrid.apps.run as run

    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setattr(cli.multiprocessing, "freeze_support", lambda: pytest.fail("called"))
    monkeypatch.setattr(run, "main", lambda argv: 0)
    assert cli.main(["--run-app", "vanity"]) == 0


def test_self_test_flag_selects_the_self_test(monkeypatch: pytest.MonkeyPatch):
    import deskgrid.node.self_test as self_test

    monkeypatch.setattr(self_test, "run_self_test", lambda args: 3)
    assert cli.main(["--self-test"]) == 3


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ["-m", "deskgrid.node.process", "--workers", "2"],
            ("deskgrid.node.process", ["--workers", "2"]),
        ),
        (["-s", "-u", "-m", "deskgrid.apps.run", "vanity"], ("deskgrid.apps.run", ["vanity"])),
        (["-m", "deskgrid", "--tray"], ("deskgrid", ["--tray"])),
        (["-m", "os"], None),  # only DeskGrid's own modules
        (["-m"], None),
        (["--tray"], None),
        (["run", "-m", "deskgrid.x"], None),
    ],
)
def test_python_dash_m_commands_are_recognised(arguments, expected):
    assert cli.frozen_module(arguments) == expected


def test_frozen_dash_m_runs_the_module_as_main(monkeypatch: pytest.MonkeyPatch):
    ran: list[tuple[str, str, list[str]]] = []
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/deskgrid/DeskGrid")
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setattr(cli.multiprocessing, "freeze_support", lambda: None)
    monkeypatch.setattr(
        cli.runpy,
        "run_module",
        lambda name, run_name, alter_sys: ran.append((name, run_name, list(sys.argv))),
    )
    assert cli.main(["-m", "deskgrid.node.process", "--workers", "1"]) == 0
    assert ran == [
        ("deskgrid.node.process", "__main__", ["/opt/deskgrid/DeskGrid", "--workers", "1"])
    ]


def test_frozen_dash_m_deskgrid_is_this_command(monkeypatch: pytest.MonkeyPatch):
    import deskgrid.node.self_test as self_test

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(cli.multiprocessing, "freeze_support", lambda: None)
    monkeypatch.setattr(self_test, "run_self_test", lambda args: 5)
    assert cli.main(["-m", "deskgrid", "--self-test"]) == 5


def test_from_source_dash_m_is_not_special(monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.delattr(sys, "frozen", raising=False)
    with pytest.raises(SystemExit):
        cli.main(["-m", "deskgrid.node.process"])
