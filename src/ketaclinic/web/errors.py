"""The API's one error shape, ``{"error": {"code", "message", "field", "value"}}``, as a schema and a body.

The API's exception handlers and the input filter (which answers before any view) both build it here,
and every operation declares it for its 4xx answers in the OpenAPI document.
"""

from __future__ import annotations

from ninja import Field, Schema


class ApiErrorDetail(Schema):
    code: str = Field(
        description="A stable machine-readable kind: invalid, unauthenticated, forbidden, "
        "outside_locations, not_found, error."
    )
    message: str = Field(description="What was refused and why, in words for the person who typed it.")
    field: str | None = Field(description="The field refused (dotted for nested JSON), when there is one.")
    value: str | None = Field(description="The value refused, as text (invisible characters spelled out).")


class ApiError(Schema):
    error: ApiErrorDetail


def error_body(code: str, message: str, field: str | None = None, value: object = None) -> dict[str, object]:
    return {
        "error": {
            "code": code,
            "message": message,
            "field": field,
            "value": None if value is None else str(value),
        }
    }
