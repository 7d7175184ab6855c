"""What the service answers a request it cannot take (422, 404): the problem's field, message
and what was found, short; pydantic's errors said as the service's."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi.responses import JSONResponse

from engine.errors import did_you_mean
from engine.project.schema import BOUNDS


def problem(field: str, message: str, found: Any = None, *, status: int = 422,
            error: str = "invalid request") -> JSONResponse:
    return JSONResponse({"error": error, "problems": [
        {"field": field, "message": message, "found": shown(found)}]}, status_code=status)


def unreadable_json(body: bytes) -> str:
    """Why a body the JSON parser gave up on (not with a syntax error) is not JSON."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (f"not valid JSON: byte {body[exc.start]:#04x} at position {exc.start} (counted "
                "from 0) is not UTF-8")
    return "not valid JSON: nested more deeply than a request can be"


def not_found(what: str, value: str) -> JSONResponse:
    return JSONResponse({"error": f"{what} not found", what.replace(" ", "_"): value},
                        status_code=404)


def close(found: str, names: Iterable[str]) -> str:
    """"; did you mean 'complaint'?" (as cvm events says it), or ""."""
    near = did_you_mean(found, sorted(names))
    return f"; {near}" if near else ""


def fits(kind: str, value: Any) -> bool:
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str)


# the branches pydantic tries for a context or event value (models.Value): an error in each
# of them is one problem of the field itself
_BRANCHES = {"bool", "int", "float", "str", "constrained-str"}
_KINDS = "expected a number, text (at most 200 characters) or true/false"


_NOT_A_TIME = ("datetime_parsing", "datetime_from_date_parsing", "datetime_type")


def problems_of(errors: Sequence[Any], body: Any = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    merged: set[str] = set()
    for err in errors:
        loc = [writable(str(p)) for p in err.get("loc", ())]
        if err.get("type") == "json_invalid":  # loc: ("body", the character where it breaks)
            out.append({"field": "body", "message": f"not valid JSON: "
                        f"{err.get('ctx', {}).get('error', 'JSON decode error')} at position "
                        f"{loc[-1] if len(loc) > 1 else 0} (counted from 0)",
                        "found": shown(body)})
            continue
        if loc and loc[-1] in _BRANCHES:
            field = ".".join(loc[:-1])
            if field not in merged:
                merged.add(field)
                out.append({"field": field, "message": _KINDS,
                            "found": shown(err.get("input"))})
            continue
        if err.get("type") in _NOT_A_TIME:  # pydantic's words name no form
            out.append({"field": ".".join(loc), "message": "expected a date and time in ISO "
                        "8601, such as 2026-01-02T10:00:00Z or 2026-01-02 (a time without a "
                        "zone is read as UTC)", "found": shown(err.get("input"))})
            continue
        if err.get("type") == "missing":  # its input is the parent: the whole body
            out.append({"field": ".".join(loc), "message": "missing: the request needs it",
                        "found": None})
            continue
        # a validator's own message, without the "Value error, " pydantic puts before it
        out.append({"field": ".".join(loc),
                    "message": str(err.get("msg", "")).removeprefix("Value error, "),
                    "found": shown(err.get("input"))})
    return out


def outside(name: str, value: object) -> str | None:
    """What a context's number must be (``schema.BOUNDS``), when it is not; else None."""
    bound = BOUNDS.get(name)
    if bound is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    low, high = bound
    if low <= value and (high is None or value <= high):
        return None
    return f"expected a number of at least {low:g}" if high is None else \
        f"expected a number from {low:g} to {high:g}"


def shown(value: Any) -> Any:
    """The offending input, short (never a whole body; NaN and Infinity as text)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (bytes, bytearray)):  # a body sent as text, not JSON
        value = bytes(value[:400]).decode("utf-8", errors="replace")
    if isinstance(value, (dict, list)):  # as the client sent it: JSON, not Python's repr
        value = json.dumps(value, ensure_ascii=False, default=str)
    text = value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
    return writable(text[:100]) if isinstance(text, str) else text


def writable(text: str) -> str:
    """``text`` as UTF-8 can write it: a lone surrogate (a JSON "\\ud800", which the request
    was refused for) shown escaped, not left to fail the answer's encoding (a 500)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
