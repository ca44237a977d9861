"""The X12 005010X222A1 837P interchange for a claim, and its check against the standard's structure.

``claim_837p`` writes the interchange (the layout is short and fixed); ``x12_problems`` checks any
interchange against the implementation guide's map with **pyx12** (PyPI ``pyx12``, kept by its author since
2001, the only maintained Python validator that ships the 5010 maps, including 837.5010.X222.A1, and works
offline). Parsers such as ``badx12``/``linuxforhealth-x12`` read but do not check the guide's loop and element
rules, or are no longer kept. Source: ASC X12N 005010X222A1 Health Care Claim: Professional.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from datetime import datetime

import pyx12.params
import pyx12.x12n_document

from ketaclinic.core.billing.claim_rules import (
    MODIFIERS_MAX,
    X12_RESERVED,
    Address,
    Claim,
    Person,
    ServiceLine,
    claim_text,
    claim_total,
    phone_digits,
    refuse_problems,
    upper_text,
    zip_digits,
)
from ketaclinic.core.billing.codes import diagnosis_check, ndc_check
from ketaclinic.core.billing.money import Money
from ketaclinic.core.errors import ValidationError

__all__ = ["claim_837p", "x12_problems"]

# --- X12 837P ---------------------------------------------------------------------------------------------


def _amount(money: Money) -> str:
    text = f"{money.amount:.2f}"
    return text[:-3] if text.endswith(".00") else text.rstrip("0")


def _address_segments(address: Address) -> list[list[str]]:
    n3 = ["N3", upper_text(address.line1)] + ([upper_text(address.line2)] if address.line2.strip() else [])
    return [n3, ["N4", upper_text(address.city), address.state.strip().upper(), zip_digits(address)]]


def _person_segments(code: str, person: Person, *, member: bool) -> list[list[str]]:
    nm1 = ["NM1", code, "1", upper_text(person.last_name), upper_text(person.first_name)]
    if member:
        nm1 += ["", "", "", "MI", claim_text(person.member_id)]
    out = [nm1]
    assert person.address is not None  # claim_problems refused a missing address
    out += _address_segments(person.address)
    assert person.birth_date is not None
    out.append(["DMG", "D8", person.birth_date.strftime("%Y%m%d"), person.sex])
    return out


def _line_segments(index: int, line: ServiceLine, claim: Claim) -> list[list[str]]:
    procedure = ":".join(["HC", line.code, *line.modifiers])
    if line.description:
        padded = ["HC", line.code, *line.modifiers, *([""] * (MODIFIERS_MAX - len(line.modifiers)))]
        procedure = ":".join([*padded, upper_text(line.description)])
    pointers = ":".join(str(p) for p in line.diagnosis_pointers)
    out = [
        ["LX", str(index)],
        ["SV1", procedure, _amount(line.charge), "UN", str(line.units), "", "", pointers],
        ["DTP", "472", "D8", line.service_date.strftime("%Y%m%d")],
    ]
    if line.ndc and line.drug_quantity is not None:
        quantity = f"{line.drug_quantity.normalize():f}"
        out += [["LIN", "", "N4", ndc_check(line.ndc)], ["CTP", "", "", "", quantity, line.drug_unit]]
    return out


def claim_837p(
    claim: Claim,
    control_number: int,
    sender_id: str,
    receiver_id: str,
    now: datetime,
    *,
    production: bool = True,
) -> str:
    """The claim as an X12 005010X222A1 837P interchange (one ISA/GS/ST, segments ended by ``~`` and a line
    break). ``control_number`` (1–999,999,999) numbers the ISA, GS and ST; ``now`` is when it is created.
    Refuses a claim with any ``claim_problems``."""
    refuse_problems(claim)
    if not 1 <= control_number <= 999_999_999:
        raise ValidationError(
            f"Control number {control_number} is outside the allowed range 1 to 999,999,999.",
            field="control_number",
            value=control_number,
        )
    for label, value in (("Sender id", sender_id), ("Receiver id", receiver_id)):
        if not 2 <= len(value.strip()) <= 15 or not value.isascii() or X12_RESERVED.search(value):
            raise ValidationError(
                f"{label} {value!r} must be 2 to 15 characters without * ~ : ^.",
                field=label.lower(),
                value=value,
            )
    provider = claim.billing_provider
    isa_control = f"{control_number:09d}"
    st_control = f"{control_number % 10000:04d}"
    body: list[list[str]] = [
        ["ST", "837", st_control, "005010X222A1"],
        [
            "BHT",
            "0019",
            "00",
            claim_text(claim.claim_id)[:30],
            now.strftime("%Y%m%d"),
            now.strftime("%H%M"),
            "CH",
        ],
        ["NM1", "41", "2", upper_text(provider.name), "", "", "", "", "46", sender_id.strip()],
        [
            "PER",
            "IC",
            upper_text(provider.contact_name or provider.name),
            "TE",
            phone_digits(provider.phone),
        ],
        ["NM1", "40", "2", upper_text(claim.payer.name), "", "", "", "", "46", receiver_id.strip()],
        ["HL", "1", "", "20", "1"],
        ["NM1", "85", "2", upper_text(provider.name), "", "", "", "", "XX", provider.npi.strip()],
        *_address_segments(provider.address),
        ["REF", "EI", provider.tax_id.replace("-", "").strip()],
    ]
    self_pay = claim.relationship == "18"
    body += [
        ["HL", "2", "1", "22", "0" if self_pay else "1"],
        [
            "SBR",
            "P",
            "18" if self_pay else "",
            claim_text(claim.group_number),
            "",
            "",
            "",
            "",
            "",
            claim.payer.filing_indicator,
        ],
        *_person_segments("IL", claim.subscriber, member=True),
        ["NM1", "PR", "2", upper_text(claim.payer.name), *[""] * 4, "PI", claim_text(claim.payer.payer_id)],
    ]
    if not self_pay:
        assert claim.patient is not None
        body += [
            ["HL", "3", "2", "23", "0"],
            ["PAT", claim.relationship],
            *_person_segments("QC", claim.patient, member=False),
        ]
    yes = {True: "Y", False: "N"}
    body.append(
        [
            "CLM",
            claim_text(claim.claim_id),
            _amount(claim_total(claim)),
            "",
            "",
            f"{claim.place_of_service}:B:{claim.frequency}",
            yes[True],
            "A",
            yes[claim.assignment_of_benefits],
            "Y" if claim.signature_on_file else "N",
        ]
    )
    if claim_text(claim.prior_authorization):
        body.append(["REF", "G1", claim_text(claim.prior_authorization)])
    if claim.frequency != "1":
        body.append(["REF", "F8", claim_text(claim.original_reference)])
    diagnoses = [diagnosis_check(c).replace(".", "") for c in claim.diagnosis_codes]
    body.append(["HI", *[f"{'ABK' if i == 0 else 'ABF'}:{code}" for i, code in enumerate(diagnoses)]])
    body.append(
        [
            "NM1",
            "82",
            "1",
            upper_text(claim.rendering_last_name),
            upper_text(claim.rendering_first_name),
            "",
            "",
            "",
            "XX",
            claim.rendering_npi.strip(),
        ]
    )
    for index, line in enumerate(claim.lines, start=1):
        body += _line_segments(index, line, claim)
    body.append(["SE", str(len(body) + 1), st_control])
    usage = "P" if production else "T"
    isa = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        sender_id.strip().ljust(15),
        "ZZ",
        receiver_id.strip().ljust(15),
        now.strftime("%y%m%d"),
        now.strftime("%H%M"),
        "^",
        "00501",
        isa_control,
        "0",
        usage,
        ":",
    ]
    gs = [
        "GS",
        "HC",
        sender_id.strip(),
        receiver_id.strip(),
        now.strftime("%Y%m%d"),
        now.strftime("%H%M"),
        str(control_number),
        "X",
        "005010X222A1",
    ]
    segments = [isa, gs, *body, ["GE", "1", str(control_number)], ["IEA", "1", isa_control]]
    return "".join(_segment(s) + "~\n" for s in segments)


def _segment(elements: Sequence[str]) -> str:
    parts = list(elements)
    if parts[0] != "ISA":
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
    return "*".join(parts)


def x12_problems(text: str) -> tuple[str, ...]:
    """What pyx12 finds wrong in an X12 interchange against the 005010 implementation guide's map; ()
    when it follows the standard's structure."""
    logger = logging.getLogger("pyx12")
    capture = _Capture()
    logger.addHandler(capture)
    previous = logger.propagate
    logger.propagate = False
    try:
        param = pyx12.params.params()
        out_999 = io.StringIO()
        ok = pyx12.x12n_document.x12n_document(param, io.StringIO(text), out_999, None)
    finally:
        logger.removeHandler(capture)
        logger.propagate = previous
    problems = tuple(capture.messages)
    if ok and not problems:
        return ()
    return problems or ("The interchange does not follow the 837P structure.",)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
