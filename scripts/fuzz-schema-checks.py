"""Schemathesis hooks for scripts/fuzz-schema: checks that no response leaks internals.

Loaded through SCHEMATHESIS_HOOKS. Each response is checked for
- an HTTP 5xx status;
- a GraphQL error with `extensions.code == "INTERNAL"` (a server-side failure
  reported with 200: the API's convention for unexpected errors);
- text that belongs to the server's internals: SQL and database driver
  messages, source file paths, panics and backtraces. A pattern that the
  request itself carried (an echoed input) does not count.

Every response is counted in $FUZZ_COUNTS and every finding is appended to
$FUZZ_FINDINGS (JSON lines: operation, status, query, variables, response), so
the driver can report the exact request and answer.
"""

from __future__ import annotations

import json
import os
import threading

import schemathesis

LEAK_PATTERNS = [
    # SQL text and database driver messages
    "SELECT ",
    "INSERT ",
    "UPDATE \"",
    "DELETE FROM",
    "syntax error",
    "sqlx",
    "sea_orm",
    "sea-orm",
    "DbErr",
    "SqliteError",
    "error returned from database",
    "relation \"",
    "no such table",
    "no such column",
    "constraint failed",
    "violates ",
    # source and file-system paths
    "/src/",
    ".rs:",
    "/home/",
    "/root/",
    "/work/",
    "/.cargo/",
    # panics and backtraces
    "panicked at",
    "stack backtrace",
    "RUST_BACKTRACE",
]

_LOCK = threading.Lock()


def _append(env_var: str, record: dict) -> None:
    path = os.environ.get(env_var)
    if not path:
        return
    line = json.dumps(record, ensure_ascii=False)
    with _LOCK, open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")


def _request_text(response) -> str:
    body = response.request.body
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body)


def _record_finding(kind: str, detail: str, response, case) -> None:
    request_text = _request_text(response)
    try:
        request = json.loads(request_text)
    except ValueError:
        request = {"raw": request_text}
    _append(
        "FUZZ_FINDINGS",
        {
            "role": os.environ.get("FUZZ_ROLE", "?"),
            "kind": kind,
            "detail": detail,
            "operation": case.operation.label,
            "status": response.status_code,
            "query": request.get("query") if isinstance(request, dict) else request,
            "variables": request.get("variables") if isinstance(request, dict) else None,
            "response": response.text[:4000],
        },
    )


def _internal_errors(response) -> list[dict]:
    try:
        payload = json.loads(response.text)
    except ValueError:
        return []
    if not isinstance(payload, dict) or not isinstance(payload.get("errors"), list):
        return []
    return [
        error
        for error in payload["errors"]
        if isinstance(error, dict)
        and isinstance(error.get("extensions"), dict)
        and error["extensions"].get("code") == "INTERNAL"
    ]


def _first_message(response) -> str | None:
    try:
        errors = json.loads(response.text).get("errors") or []
        return str(errors[0].get("message"))[:160] if errors else None
    except (ValueError, AttributeError, IndexError):
        return None


def _outcome(response) -> str:
    """`data`, or the error codes of the answer (for the driver's tally)."""
    try:
        payload = json.loads(response.text)
    except ValueError:
        return "not-json"
    if not isinstance(payload, dict):
        return "not-an-object"
    errors = payload.get("errors")
    if not errors:
        return "data"
    codes = sorted(
        {
            str((e.get("extensions") or {}).get("code", "no-code"))
            if isinstance(e, dict)
            else "?"
            for e in errors
        }
    )
    return ",".join(codes)


@schemathesis.check
def no_internals_leak(ctx, response, case):
    """No 5xx, no INTERNAL error, no SQL, paths or backtraces in the response."""
    _append(
        "FUZZ_COUNTS",
        {
            "operation": case.operation.label,
            "status": response.status_code,
            "outcome": _outcome(response),
            "message": _first_message(response),
        },
    )
    if response.status_code >= 500:
        detail = f"HTTP {response.status_code}"
        _record_finding("server-error", detail, response, case)
        raise AssertionError(f"{detail}: {response.text[:500]}")
    internal = _internal_errors(response)
    if internal:
        detail = "INTERNAL error: " + "; ".join(str(e.get("message")) for e in internal)
        _record_finding("internal-error", detail, response, case)
        raise AssertionError(detail)
    body = response.text
    request_text = _request_text(response)
    leaked = [p for p in LEAK_PATTERNS if p in body and p not in request_text]
    if leaked:
        detail = "response contains " + ", ".join(repr(p) for p in leaked)
        _record_finding("leak", detail, response, case)
        raise AssertionError(f"{detail}: {body[:500]}")
    return None
