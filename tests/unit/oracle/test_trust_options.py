"""`deskgrid oracle`'s trust options: a single unverified result is paid only when the
operator says so, in so many words."""

import pytest

from deskgrid import cli
from deskgrid.errors import DeskGridError
from deskgrid.oracle.oracle import OracleConfig

HUB = "0x2946259E0334f33A064106302415aD3391BeD384"
BASE = ["oracle", "--chain", "http://127.0.0.1:9", "--hub", HUB, "--grid", "http://127.0.0.1:9"]


def test_min_agree_1_without_allowing_single_unverified_results_is_refused_before_starting(
    capsys,
):
    assert cli.main([*BASE, "--min-agree", "1"]) == 2
    err = capsys.readouterr().err
    assert "--min-agree 1 pays a single unverified result" in err
    assert "--allow-single-unverified" in err


def test_the_config_refuses_it_too_and_takes_it_when_allowed():
    with pytest.raises(DeskGridError, match="--allow-single-unverified"):
        OracleConfig(pool_id=1, min_agree=1)
    assert OracleConfig(pool_id=1, min_agree=1, allow_single_unverified=True).min_agree == 1
    defaults = OracleConfig(pool_id=1)
    assert (defaults.min_agree, defaults.allow_single_unverified, defaults.min_trust) == (
        2,
        False,
        1,
    )


@pytest.mark.parametrize(("option", "value"), [("--min-agree", "0"), ("--min-trust", "6")])
def test_out_of_range_values_are_refused_with_a_sentence(option, value, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*BASE, option, value])
    assert exit_.value.code == 2
    assert "from 1 to" in capsys.readouterr().err
