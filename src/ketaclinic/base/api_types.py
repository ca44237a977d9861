"""Types the API's request schemas share, declared so the OpenAPI document says exactly what the server takes.

A clinical number in a request body is a JSON number, or the same number written as text ("72.5": its digits
kept exactly). Left to itself the document would promise any text at all, which the server then refuses as
malformed (422); the pattern below is what :class:`decimal.Decimal` parses, finite only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import WithJsonSchema

DECIMAL_TEXT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"

DecimalIn = Annotated[
    Decimal, WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": DECIMAL_TEXT}]})
]
