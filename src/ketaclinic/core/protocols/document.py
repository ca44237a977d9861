"""The protocol document: header plus sections, validated by one schema.

The schema is the pydantic model below; ``protocol_json_schema()`` exports it as JSON Schema
(``docs/protocol.schema.json``) so a clinic's editor can validate a file before loading it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from ketaclinic.core.errors import ProtocolError
from ketaclinic.core.indications import INDICATIONS
from ketaclinic.core.protocols.dosing import DosingSection
from ketaclinic.core.protocols.eligibility import EligibilitySection
from ketaclinic.core.protocols.formulary import FormularySection
from ketaclinic.core.protocols.monitoring import ChecklistSection, DischargeSection, MonitoringSection
from ketaclinic.core.protocols.rems import RemsSection
from ketaclinic.core.protocols.series import SeriesSection

PROTOCOL_FORMAT = "ketaclinic.protocol/1"


class Source(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    cite: str = Field(min_length=3)
    note: str = ""


class OutcomesSection(BaseModel):
    """Measurement-based care: which questionnaires, when, and when a relapse proposes a booster.

    ``relapse_fraction``: after a response, a rise back toward the baseline by at least this fraction of
    the improvement achieved proposes a booster (``core.instruments.change.relapse_check``); a clinic
    default, no consensus source. The day offsets feed ``core.outcomes.schedule.due_schedule``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    instruments: tuple[str, ...] = Field(default=("phq9", "gad7"), min_length=1)
    relapse_instrument: str = "phq9"
    relapse_fraction: float = Field(default=0.5, gt=0, le=1)
    follow_up_days: int = Field(default=3, ge=1, le=30)
    post_series_weeks: tuple[int, ...] = (1, 2, 4, 6)
    monthly_days: int = Field(default=30, ge=7, le=120)
    monthly_count: int = Field(default=6, ge=0, le=24)
    source: str = ""


class ProtocolDocument(BaseModel):
    """One version of one clinic protocol."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["ketaclinic.protocol/1"]
    id: str = Field(pattern="^[a-z][a-z0-9-]{2,63}$", description="Stable slug, e.g. depression-standard.")
    version: int = Field(ge=1, description="Increases by one for each change a clinic loads.")
    title: str = Field(min_length=3, max_length=200)
    status: Literal["draft", "active", "retired"] = "active"
    effective_from: date
    changelog: str = Field(min_length=3, description="What changed in this version, and why.")
    summary: str = ""
    sources: tuple[Source, ...] = ()
    indications: tuple[str, ...] = Field(min_length=1)
    eligibility: EligibilitySection
    dosing: DosingSection | None = None
    series: SeriesSection | None = None
    monitoring: MonitoringSection | None = None
    checklist: ChecklistSection | None = None
    discharge: DischargeSection | None = None
    outcomes: OutcomesSection | None = None
    rems: RemsSection | None = Field(
        None, description="A REMS Patient Monitoring Form after every session (esketamine nasal spray)."
    )
    formulary: FormularySection = Field(description="Every medication a session may record, with its limits.")

    @model_validator(mode="after")
    def _known_indications(self) -> ProtocolDocument:
        unknown = [i for i in self.indications if i not in INDICATIONS]
        if unknown:
            raise ValueError(
                f"unknown indications {', '.join(unknown)}; allowed are {', '.join(INDICATIONS)}"
            )
        return self

    def canonical_json(self) -> str:
        """The document as canonical JSON (sorted keys): what is stored and hashed. An absent optional
        section added after versions were loaded (``rems``) is left out, so their hashes stay the same."""
        data = self.model_dump(mode="json")
        if data.get("rems") is None:
            data.pop("rems", None)
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


def parse_protocol(data: Any) -> ProtocolDocument:
    """Validate a mapping (parsed YAML/JSON) as a protocol document or refuse with every problem named."""
    if not isinstance(data, dict):
        raise ProtocolError(f"A protocol document must be a mapping, not {type(data).__name__}.", value=data)
    try:
        return ProtocolDocument.model_validate(data)
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(document)'}: {err['msg']}" for err in exc.errors()
        )
        raise ProtocolError(f"Protocol {data.get('id', '?')!s} is invalid: {problems}", value=data) from None


def protocol_json_schema() -> dict[str, Any]:
    return ProtocolDocument.model_json_schema()
