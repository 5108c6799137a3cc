"""JSON from someone else, parsed within bounds: a size limit, a nesting-depth limit checked by
a linear pre-scan before the parser runs, and the I-JSON profile (RFC 7493): UTF-8 text, no
lone surrogates, no NaN/Infinity, no numbers too large to be numbers.

Python's JSON decoder recurses once per nesting level. Some dependencies (py_ecc, loaded
through eth-account) raise the interpreter's recursion limit to 100,000, so a small body of
80,000 opening brackets overflows the C stack and kills the process instead of raising
RecursionError. The pre-scan here does not recurse and does not depend on that limit.

    data = loads(body, max_depth=64, max_bytes=1 << 20)   # JsonRejected if outside the bounds
    check(body, max_depth=64)                               # the same checks, without the result
"""

from __future__ import annotations

import json
import re
from array import array
from itertools import accumulate
from typing import Any

from deskgrid.errors import DeskGridError

DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_BYTES = 1 << 20
MAX_INT_DIGITS = 400  # larger integers are refused (Python's own limit is 4300 digits)

# Everything but brackets outside strings: a string (possibly unterminated: then it runs to
# the end), or a run of other characters. Possessive quantifiers keep the scan linear.
_NOISE = re.compile(r'"(?:[^"\\]++|\\[\s\S])*+"?|[^\[\]{}"]++')
_STEPS = str.maketrans({"[": "\x01", "{": "\x01", "]": "\xff", "}": "\xff"})
# a \uD800-\uDFFF escape (the backslash before the "u" is not itself escaped)
_SURROGATE = re.compile(r"(?<!\\)(?:\\\\)*+\\u([dD][89a-fA-F][0-9a-fA-F]{2})")


class JsonRejected(DeskGridError, ValueError):
    """The text is not JSON within the bounds; `reason` is a short code: too_large, too_deep,
    not_utf8, surrogate, number, invalid."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def nesting_depth(text: str | bytes) -> int:
    """The deepest nesting of arrays and objects in `text` (brackets inside strings do not
    count). Linear time; no recursion."""
    if isinstance(text, bytes | bytearray | memoryview):
        text = bytes(text).decode("utf-8", "surrogatepass")
    if "[" not in text and "{" not in text:
        return 0
    brackets = _NOISE.sub("", text).translate(_STEPS).encode("latin-1")
    return max(0, max(accumulate(array("b", brackets)), default=0))


def check(
    data: str | bytes,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> str:
    """The text of `data` if it is within the bounds (size, depth, UTF-8, no lone
    surrogates); JsonRejected otherwise. Does not parse."""
    if max_bytes is not None and len(data) > max_bytes:
        raise JsonRejected(f"The JSON is larger than the limit of {max_bytes} bytes.", "too_large")
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            message = "The JSON is not valid UTF-8 text; send UTF-8."
            raise JsonRejected(message, "not_utf8") from None
    else:
        text = data
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise JsonRejected(
                    "The JSON holds a lone surrogate character; send valid Unicode.", "surrogate"
                ) from None
    opens = text.count("[") + text.count("{")
    if opens > max_depth and nesting_depth(text) > max_depth:
        raise JsonRejected(
            f"The JSON is nested deeper than {max_depth} levels; flatten it.", "too_deep"
        )
    if "\\u" in text and _has_lone_surrogate(text):
        raise JsonRejected(
            "The JSON holds a lone surrogate escape (\\uD800-\\uDFFF); send valid Unicode.",
            "surrogate",
        )
    return text


def _has_lone_surrogate(text: str) -> bool:
    """Is there a high surrogate escape not followed at once by a low one, or a low one
    that does not follow a high one?"""
    high_end = -1  # where the last unpaired high surrogate escape ended
    for match in _SURROGATE.finditer(text):
        unit = int(match.group(1), 16)
        adjacent = match.start() == high_end and match.start(1) - 2 == high_end
        if unit >= 0xDC00:  # low
            if not adjacent:
                return True
            high_end = -1
        else:  # high
            if high_end != -1:
                return True
            high_end = match.end()
    return high_end != -1


def _bad_constant(name: str) -> Any:
    raise JsonRejected(f"The JSON holds {name}, which is not a JSON number.", "number")


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonRejected(
            f"The JSON holds an integer longer than {MAX_INT_DIGITS} digits.", "number"
        )
    return int(digits)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JsonRejected("The JSON holds a number too large for a float.", "number")
    return value


_DECODER = json.JSONDecoder(parse_constant=_bad_constant, parse_int=_int, parse_float=_float)
# numbers as Python reads them (integers up to its own 4,300-digit limit, NaN allowed)
_LENIENT = json.JSONDecoder()


def loads(
    data: str | bytes,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    strict_numbers: bool = True,
) -> Any:
    """Parse `data` (UTF-8 bytes or text) if it is within the bounds; JsonRejected otherwise
    (it is a ValueError, as json.loads raises). `strict_numbers=False` accepts what Python's
    decoder accepts (long integers, NaN): for peers whose numbers are big by nature (a chain
    node's replies)."""
    text = check(data, max_depth=max_depth, max_bytes=max_bytes)
    try:
        return (_DECODER if strict_numbers else _LENIENT).decode(text)
    except JsonRejected:
        raise
    except (ValueError, RecursionError) as exc:
        raise JsonRejected(f"The text is not valid JSON ({_short(exc)}).", "invalid") from None


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
