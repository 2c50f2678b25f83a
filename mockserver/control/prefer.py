"""``Prefer: code=NNN``: ask for one of an operation's declared answers, as Prism lets you.

Prism picks the response of that status from the OpenAPI document; so does the mock, from
its own (``mockserver.openapi``): an error status gets the mock's error body of that status
(nothing is carried out), the operation's success status the normal answer, and a status
the operation does not declare a 400 that names the header and the statuses it does. Other
preferences (``dynamic=true``, ``example=…``) are Prism's ways of choosing an example and
mean nothing here; they are ignored. Paths that are no operation (the HTML pages, unknown
routes) ignore the header too and answer as they would.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mockserver.contract import Contract
from mockserver.control.faults import Answer, error_answer
from mockserver.errors import InvalidRequest

PARAMETER = re.compile(r"\{[^}/]+\}")
CODE = re.compile(r"\s*code\s*=\s*\"?([^\";,]*)\"?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Operation:
    """One operation of the OpenAPI document: where it is, what it may answer."""

    method: str
    template: re.Pattern[str]
    name: str
    success: int
    errors: tuple[int, ...]

    @property
    def codes(self) -> tuple[int, ...]:
        """Every status it declares, ascending."""
        return tuple(sorted((self.success, *self.errors)))


class PreferCodes:
    """The operations of the contract, read from its OpenAPI document on first use."""

    def __init__(self, contract: Contract) -> None:
        self._contract = contract
        self._operations: Sequence[Operation] | None = None

    def answer(self, method: str, path: str, prefer: bytes) -> Answer | None:
        """What to answer instead of the API, or None to let the API answer."""
        wanted = preferred_code(prefer)
        if wanted is None:
            return None
        operation = self.operation(method, path)
        if operation is None:
            return None
        allowed = ", ".join(str(code) for code in operation.codes)
        if not wanted.isdigit() or int(wanted) not in operation.codes:
            return error_answer(
                InvalidRequest.status,
                f"Header Prefer asks for code={wanted}, which {operation.name} "
                f"({method} {path}) does not answer; it answers {allowed} (see /openapi.json).",
            )
        status = int(wanted)
        if status == operation.success:
            return None
        return error_answer(
            status,
            f"Header Prefer asked for code={status}: avara-mock answered {operation.name} with "
            "it and carried nothing out; send the request without Prefer for the real answer.",
        )

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation a request is a call of (literal routes win over templated ones)."""
        if self._operations is None:
            self._operations = _operations(self._contract)
        upper = method.upper()
        for operation in self._operations:
            if operation.method == upper and operation.template.fullmatch(path):
                return operation
        return None


def preferred_code(prefer: bytes) -> str | None:
    """The text of the ``code`` preference of a Prefer header, None without one."""
    text = prefer.decode("latin-1")
    for preference in re.split(r"[,;]", text):
        found = CODE.fullmatch(preference)
        if found is not None:
            return found[1].strip()
    return None


def _operations(contract: Contract) -> list[Operation]:
    from mockserver.openapi import build_openapi

    found: list[tuple[int, Operation]] = []
    for path, item in build_openapi(contract)["paths"].items():
        for method, described in item.items():
            if not isinstance(described, dict) or "operationId" not in described:
                continue
            codes = sorted(int(code) for code in described["responses"])
            success = next(code for code in codes if code < 400)
            template = re.compile(
                "/".join(
                    "[^/]+" if PARAMETER.fullmatch(part) else re.escape(part)
                    for part in path.split("/")
                )
            )
            operation = Operation(
                method.upper(),
                template,
                described["operationId"],
                success,
                tuple(code for code in codes if code != success),
            )
            found.append((len(PARAMETER.findall(path)), operation))
    return [operation for _, operation in sorted(found, key=lambda pair: pair[0])]
