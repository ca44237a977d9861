"""The instrument definition format: one schema for every questionnaire ketaclinic scores.

An instrument is data (a YAML file in ``library/``), validated by the frozen pydantic models below, so a
new questionnaire is a new file, not new code. A definition carries its items (code, wording, LOINC item
code, answer options), how it is scored (a sum over the items, or an ordered list of classification
rules such as the C-SSRS screener's risk levels), severity bands, the rule for missing items, flags,
branching (``ask_if``), the change definitions (response, remission, reliable change) and its sources.

Rules are written as a disjunction of conjunctions of item conditions::

    any_of:
      - [{item: cssrs_4, equals: 1}]                       # item 4 yes
      - [{item: cssrs_6, equals: 1}, {item: cssrs_6_recent, equals: 1}]   # behaviour, past 3 months

A condition on an unanswered (or skipped) item is false, except ``unanswered: true``, which holds exactly
then (so a safety item left blank can raise its own flag).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from ketaclinic.core.errors import DomainError

INSTRUMENT_FORMAT = "ketaclinic.instrument/1"

MSG_DEFINITION_INVALID = "Instrument definition {id} is invalid: {problems}"
MSG_DEFINITION_NOT_MAPPING = "An instrument definition must be a mapping, not {kind}."


class InstrumentDefinitionError(DomainError):
    """An instrument definition file that does not follow the instrument schema."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Model):
    cite: str = Field(min_length=3)
    supports: str = Field(default="", description="Which values of the definition this source supports.")


class AnswerOption(_Model):
    value: int
    label: str | None = Field(default=None, description="None when the wording is clinic-supplied.")


class Condition(_Model):
    """One test on one item's answer: exactly one of ``equals``, ``at_least`` and ``unanswered: true``."""

    item: str
    equals: int | None = None
    at_least: int | None = None
    unanswered: Literal[True] | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [t for t in (self.equals, self.at_least, self.unanswered) if t is not None]
        if len(tests) != 1:
            raise ValueError(f"condition on {self.item} needs exactly one of equals, at_least, unanswered")
        return self

    def holds(self, answers: Mapping[str, int | None]) -> bool:
        value = answers.get(self.item)
        if self.unanswered:
            return value is None
        if value is None:
            return False
        if self.equals is not None:
            return value == self.equals
        return value >= (self.at_least if self.at_least is not None else 0)


class Rule(_Model):
    """True when every condition of at least one clause holds."""

    any_of: tuple[tuple[Condition, ...], ...] = Field(min_length=1)

    def holds(self, answers: Mapping[str, int | None]) -> bool:
        return any(all(c.holds(answers) for c in clause) for clause in self.any_of)

    def items(self) -> set[str]:
        return {c.item for clause in self.any_of for c in clause}


class Item(_Model):
    code: str = Field(pattern="^[a-z][a-z0-9_]{1,63}$")
    text: str | None = Field(default=None, description="None when the wording is clinic-supplied.")
    loinc: str | None = Field(default=None, pattern=r"^\d{1,7}-\d$")
    options: tuple[AnswerOption, ...] = Field(min_length=2)
    ask_if: Rule | None = Field(default=None, description="Branching: asked only when this rule holds.")

    @model_validator(mode="after")
    def _options_distinct(self) -> Item:
        values = [o.value for o in self.options]
        if len(set(values)) != len(values):
            raise ValueError(f"item {self.code} repeats an answer value")
        return self

    @property
    def min_value(self) -> int:
        return min(o.value for o in self.options)

    @property
    def max_value(self) -> int:
        return max(o.value for o in self.options)

    def allowed(self) -> tuple[int, ...]:
        return tuple(sorted(o.value for o in self.options))


class Band(_Model):
    """A severity band from ``min`` to ``max`` inclusive (prorated totals fall in by their lower bound)."""

    min: float
    max: float
    label: str = Field(min_length=1)


class Classification(_Model):
    """One level of a rule-scored instrument; the first whose rule holds wins, ``rule: null`` = default."""

    label: str = Field(min_length=1)
    rule: Rule | None = None


class Scoring(_Model):
    method: Literal["sum", "classification"]
    min_total: int | None = None
    max_total: int | None = None
    classification: tuple[Classification, ...] = ()


class MissingRule(_Model):
    """How unanswered items are handled: refuse any, or prorate up to ``max_missing`` by the answered mean."""

    method: Literal["refuse", "prorate_mean"]
    max_missing: int = Field(default=0, ge=0)
    source: str = Field(min_length=3, description="Where the rule comes from, or why it is a clinic default.")

    @model_validator(mode="after")
    def _consistent(self) -> MissingRule:
        if self.method == "refuse" and self.max_missing != 0:
            raise ValueError("missing.method refuse takes max_missing 0")
        if self.method == "prorate_mean" and self.max_missing < 1:
            raise ValueError("missing.method prorate_mean needs max_missing of at least 1")
        return self


class Flag(_Model):
    """A safety flag raised by a rule on the answers or by the resulting severity/risk level."""

    id: str = Field(pattern="^[a-z][a-z0-9_]{1,63}$")
    description: str = Field(min_length=3)
    rule: Rule | None = None
    severity_in: tuple[str, ...] = ()
    urgent: bool = Field(
        default=False,
        description="Raises a safety flag a prescriber must assess before any "
        "further infusion, and emails them.",
    )
    summary: str | None = Field(
        default=None, min_length=10, description="The urgent flag's wording for staff."
    )

    @model_validator(mode="after")
    def _has_trigger(self) -> Flag:
        if self.rule is None and not self.severity_in:
            raise ValueError(f"flag {self.id} needs a rule or severity_in")
        if self.urgent and self.summary is None:
            raise ValueError(f"urgent flag {self.id} needs a summary for staff")
        return self


class Subscale(_Model):
    id: str = Field(pattern="^[a-z][a-z0-9_]{1,63}$")
    name: str
    items: tuple[str, ...] = Field(min_length=1)
    validated: bool
    source: str = Field(min_length=3)


class ChangeDefinitions(_Model):
    """Change from baseline. Fractions are of the baseline total; points are on the total's scale."""

    response_drop_fraction: float | None = Field(default=None, gt=0, le=1)
    response_min_baseline: float | None = None
    remission_below: float | None = None
    remission_min_baseline: float | None = None
    reliable_change_points: float | None = Field(default=None, gt=0)
    important_change_points: float | None = Field(default=None, gt=0)
    source: str = ""


class Instrument(_Model):
    """One version of one questionnaire or rating."""

    format: Literal["ketaclinic.instrument/1"]
    id: str = Field(pattern="^[a-z][a-z0-9_]{1,31}$")
    name: str = Field(min_length=3)
    version: int = Field(ge=1)
    description: str = ""
    validated: bool = Field(description="False for ratings that are not a validated scale.")
    wording: Literal["shipped", "clinic_supplied"]
    licence: str = Field(min_length=3)
    loinc_panel: str | None = Field(default=None, pattern=r"^\d{1,7}-\d$")
    loinc_result: str | None = Field(
        default=None,
        pattern=r"^\d{1,7}-\d$",
        description="Code the result is reported under: the total score, or the level of a classification.",
    )
    sources: tuple[Source, ...] = Field(min_length=1)
    items: tuple[Item, ...] = Field(min_length=1)
    scoring: Scoring
    bands: tuple[Band, ...] = ()
    missing: MissingRule
    flags: tuple[Flag, ...] = ()
    ideation_item: str | None = Field(
        default=None,
        description="The item whose answer records suicidal "
        "ideation: above its minimum = yes, at its minimum = no, blank = unknown.",
    )
    subscales: tuple[Subscale, ...] = ()
    change: ChangeDefinitions = ChangeDefinitions()

    @model_validator(mode="after")
    def _coherent(self) -> Instrument:
        problems: list[str] = []
        codes = [i.code for i in self.items]
        known = set(codes)
        if len(known) != len(codes):
            problems.append("item codes repeat")
        if self.missing.max_missing >= len(self.items):
            problems.append("missing.max_missing must be below the number of items")
        for item in self.items:
            if self.wording == "shipped" and item.text is None:
                problems.append(f"item {item.code} has no text but wording is shipped")
            if item.ask_if is not None and not item.ask_if.items() <= known:
                problems.append(f"item {item.code} branches on an unknown item")
        labels: set[str] = set()
        if self.scoring.method == "sum":
            lo = sum(i.min_value for i in self.items)
            hi = sum(i.max_value for i in self.items)
            if (self.scoring.min_total, self.scoring.max_total) != (lo, hi):
                problems.append(f"scoring range must be {lo}..{hi}, the sum of the item ranges")
            if self.scoring.classification:
                problems.append("a sum-scored instrument takes bands, not classification")
            previous: float | None = None
            for band in self.bands:
                if band.min > band.max:
                    problems.append(f"band {band.label} has min above max")
                if previous is not None and band.min <= previous:
                    problems.append(f"band {band.label} overlaps or is out of order")
                previous = band.max
                labels.add(band.label)
            if self.bands and (self.bands[0].min != lo or self.bands[-1].max != hi):
                problems.append(f"bands must cover {lo}..{hi}")
        else:
            if not self.scoring.classification or self.scoring.classification[-1].rule is not None:
                problems.append("classification needs levels ending with a default (rule: null)")
            if self.bands or self.change != ChangeDefinitions():
                problems.append("a classification-scored instrument takes no bands or change definitions")
            for level in self.scoring.classification:
                labels.add(level.label)
                if level.rule is not None and not level.rule.items() <= known:
                    problems.append(f"level {level.label} refers to an unknown item")
            if self.missing.method != "refuse":
                problems.append("a classification-scored instrument must refuse missing items")
        if self.ideation_item is not None and self.ideation_item not in known:
            problems.append("ideation_item is not an item")
        for flag in self.flags:
            if flag.rule is not None and not flag.rule.items() <= known:
                problems.append(f"flag {flag.id} refers to an unknown item")
            if not set(flag.severity_in) <= labels:
                problems.append(f"flag {flag.id} names an unknown severity")
        for sub in self.subscales:
            if not set(sub.items) <= known:
                problems.append(f"subscale {sub.id} refers to an unknown item")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def wording_missing(self) -> bool:
        """True until every item has its wording (clinic-supplied instruments before ``apply_wording``)."""
        return any(i.text is None for i in self.items)

    def item(self, code: str) -> Item:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "items": len(self.items),
            "validated": self.validated,
            "wording": self.wording,
            "wording_missing": self.wording_missing,
            "scoring": self.scoring.method,
            "range": [self.scoring.min_total, self.scoring.max_total]
            if self.scoring.method == "sum"
            else None,
            "loinc_panel": self.loinc_panel,
            "loinc_result": self.loinc_result,
            "licence": self.licence,
        }


def parse_instrument(data: Any) -> Instrument:
    """Validate a mapping (parsed YAML/JSON) as an instrument definition, or refuse it naming every
    problem."""
    if not isinstance(data, Mapping):
        raise InstrumentDefinitionError(
            MSG_DEFINITION_NOT_MAPPING.format(kind=type(data).__name__), value=data
        )
    try:
        return Instrument.model_validate(dict(data))
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(definition)'}: {err['msg']}" for err in exc.errors()
        )
        raise InstrumentDefinitionError(
            MSG_DEFINITION_INVALID.format(id=data.get("id", "?"), problems=problems), value=data.get("id")
        ) from None


def instrument_json_schema() -> dict[str, Any]:
    return Instrument.model_json_schema()
