"""Claims as plain data: what must be on a professional claim, the X12 005010X222A1 837P interchange that
carries it to a payer or clearinghouse, and the CMS-1500 (02/12) boxes the billing app prints (issue 14).

``claim_problems`` names every missing or malformed required item in words for the front desk; both
``claim_837p`` and ``cms1500_fields`` refuse a claim that has any. The 837P is written here (the layout is
short and fixed) and checked against the standard's structure by ``x12_problems``, which runs **pyx12**
(PyPI ``pyx12``, kept by its author since 2001, the only maintained Python validator that ships the
5010 implementation-guide maps, including 837.5010.X222.A1, and works offline). Parsers such as
``badx12``/``linuxforhealth-x12`` read but do not check the guide's loop and element rules, or are no
longer kept.

Sources: ASC X12N 005010X222A1 Health Care Claim: Professional (segment order and codes); NUCC 1500
Claim Form Reference Instruction Manual 02/12 (box numbers); CMS "place of service" code set (11 = office).
"""

from __future__ import annotations

from datetime import date

from ketaclinic.core.billing.claim_rules import (
    CLAIM_FILING_INDICATORS,
    RELATIONSHIPS,
    UNCLASSIFIED_CODES,
    Address,
    BillingProvider,
    Claim,
    Payer,
    Person,
    ServiceLine,
    claim_problems,
    claim_text,
    claim_total,
    refuse_problems,
    upper_text,
    zip_digits,
)
from ketaclinic.core.billing.codes import diagnosis_check, ndc_check
from ketaclinic.core.billing.x12 import claim_837p, x12_problems

__all__ = [
    "CLAIM_FILING_INDICATORS",
    "RELATIONSHIPS",
    "UNCLASSIFIED_CODES",
    "Address",
    "BillingProvider",
    "Claim",
    "Payer",
    "Person",
    "ServiceLine",
    "claim_837p",
    "claim_problems",
    "claim_text",
    "claim_total",
    "cms1500_fields",
    "x12_problems",
]


# --- CMS-1500 ---------------------------------------------------------------------------------------------


def _name(person: Person) -> str:
    return f"{upper_text(person.last_name)}, {upper_text(person.first_name)}"


def _address(address: Address) -> str:
    return (
        f"{upper_text(address.line1)}\n{upper_text(address.city)} {address.state.strip().upper()} "
        f"{zip_digits(address)}"
    )


def _mdy(day: date | None) -> str:
    return day.strftime("%m %d %Y") if day else ""


def cms1500_fields(claim: Claim) -> dict[str, str]:
    """The CMS-1500 (02/12) boxes as text, keyed by box number (NUCC reference manual): ``"1a"``,
    ``"21A"``..``"21L"``, and per service line ``"24A.1"`` (dates), ``"24B.1"`` (place), ``"24D.1"``
    (code and modifiers), ``"24E.1"`` (pointers as letters), ``"24F.1"`` (charge), ``"24G.1"`` (units),
    ``"24J.1"`` (rendering NPI), with the NDC on the shaded line as ``"24shaded.1"``."""
    refuse_problems(claim)
    patient = claim.patient or claim.subscriber
    provider = claim.billing_provider
    letters = "ABCDEFGHIJKL"
    out: dict[str, str] = {
        "1": claim.payer.filing_indicator,
        "1a": claim.subscriber.member_id.strip(),
        "2": _name(patient),
        "3": f"{_mdy(patient.birth_date)} {patient.sex}",
        "4": _name(claim.subscriber),
        "6": RELATIONSHIPS[claim.relationship],
        "11": claim.group_number.strip(),
        "12": "SIGNATURE ON FILE" if claim.signature_on_file else "",
        "13": "SIGNATURE ON FILE" if claim.assignment_of_benefits else "",
        "21": "0",  # ICD indicator: 0 = ICD-10-CM
        "22": f"{claim.frequency} {claim_text(claim.original_reference)}" if claim.frequency != "1" else "",
        "23": claim_text(claim.prior_authorization),
        "25": provider.tax_id.replace("-", "").strip(),
        "25_type": "EIN",
        "26": claim.claim_id.strip(),
        "27": "YES" if claim.assignment_of_benefits else "NO",
        "28": f"{claim_total(claim).amount:.2f}",
        "31": f"{upper_text(claim.rendering_first_name)} {upper_text(claim.rendering_last_name)}",
        "33": f"{upper_text(provider.name)}\n{_address(provider.address)}",
        "33a": provider.npi.strip(),
    }
    for who, box in ((patient, "5"), (claim.subscriber, "7")):
        if who.address is not None:
            out[box] = _address(who.address)
    for index, code in enumerate(claim.diagnosis_codes):
        out[f"21{letters[index]}"] = diagnosis_check(code)
    for n, line in enumerate(claim.lines, start=1):
        out[f"24A.{n}"] = f"{line.service_date:%m %d %y} {line.service_date:%m %d %y}"
        out[f"24B.{n}"] = claim.place_of_service
        out[f"24D.{n}"] = " ".join([line.code, *line.modifiers])
        out[f"24E.{n}"] = "".join(letters[p - 1] for p in line.diagnosis_pointers)
        out[f"24F.{n}"] = f"{line.charge.amount:.2f}"
        out[f"24G.{n}"] = str(line.units)
        out[f"24J.{n}"] = claim.rendering_npi.strip()
        if line.ndc and line.drug_quantity is not None:
            out[f"24shaded.{n}"] = (
                f"N4{ndc_check(line.ndc)} {line.drug_unit}{line.drug_quantity.normalize():f}"
            )
        elif line.description:
            out[f"24shaded.{n}"] = upper_text(line.description)
    return out
