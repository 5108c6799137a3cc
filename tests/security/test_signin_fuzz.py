"""Whatever a grid answers to a sign-in challenge, the worker either refuses (SignInRefused,
nothing to sign) or signs the one fixed form for the URL it connected to: no other text, no
other exception. Property-based: fields replaced by arbitrary JSON values, URLs extended by
arbitrary text, unknown fields added."""

from __future__ import annotations

import re
import time

from eth_account import Account
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from deskgrid.grid.signin import (
    STATEMENT,
    TITLE,
    SignInRefused,
    checked_message,
)

URL = "http://127.0.0.1:8750"
ME = Account.create().address
NOW = int(time.time())
VALID = {
    "version": 1,
    "grid_url": URL,
    "grid_id": "ab" * 16,
    "chain_id": None,
    "address": ME,
    "nonce": "cd" * 16,
    "issued_at": NOW,
    "expires_at": NOW + 300,
}
LINE = {  # what each line after the statement may be, and nothing else
    3: re.escape(f"URL: {URL}"),
    4: r"Grid ID: [0-9a-f]{32}",
    5: r"Chain ID: (none|[1-9][0-9]{0,15})",
    6: re.escape(f"Worker: {ME}"),
    7: r"Payout: none",
    8: r"Nonce: [0-9a-f]{32}",
    9: r"Issued At: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
    10: r"Expiration Time: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=60),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
near_values = {
    "version": st.integers(-2, 3),
    "grid_url": st.builds(lambda s: URL + s, st.text(max_size=20))
    | st.sampled_from(
        [
            URL.upper(),
            URL + "/",
            "http://127.0.0.1:8750#x",
            "http://[::1]:8750",
            "http://127.1:8750",
        ]
    ),
    "grid_id": st.text(alphabet="0123456789abcdef\n ", min_size=30, max_size=34),
    "chain_id": st.integers(-1, 2**60),
    "nonce": st.text(alphabet="0123456789abcdefABCDEF\n", min_size=30, max_size=34),
    "address": st.sampled_from([Account.create().address, ME.lower(), ME.upper(), " " + ME]),
    "issued_at": st.integers(NOW - 10**6, NOW + 10**6),
    "expires_at": st.integers(NOW - 10**6, NOW + 10**6),
}


@st.composite
def challenges(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 20)) == 0:
        return draw(json_values)
    reply = dict(VALID)
    for key in draw(st.lists(st.sampled_from(sorted(VALID)), max_size=4, unique=True)):
        if draw(st.booleans()):
            reply[key] = draw(near_values.get(key, json_values))
        elif draw(st.booleans()):
            reply[key] = draw(json_values)
        else:
            del reply[key]
    if draw(st.integers(0, 5)) == 0:
        reply[draw(st.text(max_size=10))] = draw(json_values)
    if draw(st.integers(0, 3)) == 0:  # a short lifetime at any time, up to far beyond 9999
        start = draw(st.integers(0, 2**41) | st.integers(NOW - 10**4, NOW + 10**4))
        reply["issued_at"], reply["expires_at"] = start, start + draw(st.integers(-10, 700))
    return reply


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(challenges())
@example(VALID | {"issued_at": 2**40 - 60, "expires_at": 2**40})  # past the year 9999
@example(VALID | {"issued_at": 253_402_300_700, "expires_at": 253_402_300_799})
@example(VALID | {"expires_at": NOW + 86400})
def test_the_worker_refuses_or_signs_only_the_fixed_form(reply: object) -> None:
    try:
        _, message = checked_message(reply, connected_url=URL, address=ME, payout=None, now=NOW)
    except SignInRefused as refused:
        assert refused.detail.startswith(f"This worker refused to sign in to {URL}: ")
        return
    lines = message.split("\n")
    assert len(lines) == 11
    assert lines[0] == TITLE
    assert lines[1] == STATEMENT.format(url=URL)
    assert lines[2] == ""
    for index, pattern in LINE.items():
        assert re.fullmatch(pattern, lines[index]), lines[index]
    assert isinstance(reply, dict)
    issued, expires = reply["issued_at"], reply["expires_at"]
    assert 0 < expires - issued <= 600  # short-lived ...
    assert issued <= NOW + 120 and expires >= NOW - 120  # ... and now
