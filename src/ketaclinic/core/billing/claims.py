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

import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from ketaclinic.core.billing.codes import CodeLine, diagnosis_check, ndc_check
from ketaclinic.core.billing.money import Money
from ketaclinic.core.errors import DomainError, ValidationError
from ketaclinic.core.input_rules import npi_is_valid

__all__ = [
    "CLAIM_FILING_INDICATORS",
    "Address",
    "BillingProvider",
    "Claim",
    "Payer",
    "Person",
    "ServiceLine",
    "claim_837p",
    "claim_problems",
    "claim_total",
    "cms1500_fields",
    "x12_problems",
]

#: SBR09 claim filing indicator codes a clinic uses (005010X222A1 loop 2000B SBR09).
CLAIM_FILING_INDICATORS = {
    "CI": "Commercial insurance",
    "BL": "Blue Cross/Blue Shield",
    "HM": "Health maintenance organisation",
    "MB": "Medicare Part B",
    "MC": "Medicaid",
    "WC": "Workers' compensation",
    "CH": "TRICARE",
    "VA": "Veterans Affairs",
    "ZZ": "Unknown",
}
#: Patient's relationship to the subscriber (PAT01 / SBR02): 18 = self.
RELATIONSHIPS = {"18": "Self", "01": "Spouse", "19": "Child", "20": "Employee", "G8": "Other relationship"}
SEXES = {"F", "M", "U"}
#: Up to 12 diagnosis codes on an 837P (HI segment) and on the CMS-1500 (box 21 A–L).
DIAGNOSES_MAX = 12
#: Up to 4 diagnosis pointers and 4 modifiers per line; 50 service lines per 837P claim.
POINTERS_MAX = 4
MODIFIERS_MAX = 4
LINES_MAX = 50
_X12_RESERVED = re.compile(r"[*~:^|\\]")
_STATE = re.compile(r"^[A-Z]{2}$")
_ZIP = re.compile(r"^\d{5}(\d{4})?$")
_TAX_ID = re.compile(r"^\d{9}$")

#: HCPCS codes for drugs not otherwise classified: the claim must name the drug, its dose and its NDC.
UNCLASSIFIED_CODES = frozenset({"J3490", "J3590", "J7999", "J9999", "C9399"})

CLAIM_HAS_PROBLEMS = "The claim cannot be sent until these are fixed: {problems}"


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    state: str
    postal_code: str
    line2: str = ""


@dataclass(frozen=True, slots=True)
class BillingProvider:
    """The clinic (an organisation) that bills: NPI, tax id (EIN, 9 digits) and a street address."""

    name: str
    npi: str
    tax_id: str
    address: Address
    phone: str = ""
    contact_name: str = ""


@dataclass(frozen=True, slots=True)
class Person:
    last_name: str
    first_name: str
    birth_date: date | None
    sex: str
    address: Address | None
    member_id: str = ""


@dataclass(frozen=True, slots=True)
class Payer:
    name: str
    payer_id: str
    filing_indicator: str = "CI"
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """One billed service: ``code`` (CPT/HCPCS) × ``units`` on ``service_date`` for ``charge`` (the line's
    total), pointing at up to 4 of the claim's diagnoses (1 = the first)."""

    service_date: date
    code: str
    units: int
    charge: Money
    diagnosis_pointers: tuple[int, ...] = (1,)
    modifiers: tuple[str, ...] = ()
    ndc: str = ""
    drug_quantity: Decimal | None = None
    drug_unit: str = "ME"  # ME milligram, ML millilitre, UN unit (X12 CTP05-1)
    description: str = ""

    @classmethod
    def from_code_line(
        cls,
        line: CodeLine,
        *,
        service_date: date,
        charge: Money,
        diagnosis_pointers: tuple[int, ...] = (1,),
        ndc: str = "",
        drug_quantity: Decimal | None = None,
    ) -> ServiceLine:
        """A service line from a computed code line (``codes.infusion_cpt_lines`` / ``codes.drug_lines``); an
        unclassified code (J3490) carries the drug and dose as its description, as payers ask."""
        description = line.note if line.code in UNCLASSIFIED_CODES else ""
        return cls(
            service_date=service_date,
            code=line.code,
            units=line.units,
            charge=charge,
            diagnosis_pointers=diagnosis_pointers,
            modifiers=line.modifiers,
            ndc=ndc or line.ndc,
            drug_quantity=drug_quantity,
            description=description,
        )


@dataclass(frozen=True, slots=True)
class Claim:
    """A professional claim for one patient and one payer. ``patient`` is None when the patient is the
    subscriber (relationship 18, self)."""

    claim_id: str  # the clinic's patient control number for this claim (CLM01, box 26)
    billing_provider: BillingProvider
    rendering_npi: str
    rendering_last_name: str
    rendering_first_name: str
    subscriber: Person
    payer: Payer
    diagnosis_codes: tuple[str, ...]
    lines: tuple[ServiceLine, ...]
    prior_authorization: str = ""
    patient: Person | None = None
    relationship: str = "18"
    group_number: str = ""
    place_of_service: str = "11"
    signature_on_file: bool = True
    assignment_of_benefits: bool = True
    indication: str | None = None
    service_facility: Address | None = field(default=None)


# --- problems --------------------------------------------------------------------------------------------


def _text_problem(value: str, label: str, problems: list[str], *, required: bool = True) -> None:
    text = (value or "").strip()
    if required and not text:
        problems.append(f"{label} is missing.")
    elif _X12_RESERVED.search(text):
        problems.append(
            f"{label} {text!r} contains one of the characters * ~ : ^ | \\, which claims cannot carry."
        )


def _address_problems(address: Address | None, label: str, problems: list[str]) -> None:
    if address is None:
        problems.append(f"{label} address is missing.")
        return
    _text_problem(address.line1, f"{label} street address", problems)
    _text_problem(address.line2, f"{label} second address line", problems, required=False)
    _text_problem(address.city, f"{label} city", problems)
    if not _STATE.match((address.state or "").strip().upper()):
        problems.append(f"{label} state {address.state!r} is not a 2-letter state code (e.g. TX).")
    if not _ZIP.match((address.postal_code or "").replace("-", "").strip()):
        problems.append(f"{label} ZIP code {address.postal_code!r} is not 5 or 9 digits.")


def _person_problems(person: Person, label: str, problems: list[str], *, member: bool) -> None:
    _text_problem(person.last_name, f"{label}'s last name", problems)
    _text_problem(person.first_name, f"{label}'s first name", problems)
    if person.birth_date is None:
        problems.append(f"{label}'s date of birth is missing.")
    if person.sex not in SEXES:
        problems.append(f"{label}'s sex {person.sex!r} is not one of F, M or U (unknown).")
    _address_problems(person.address, label, problems)
    if member:
        _text_problem(person.member_id, f"{label}'s member id (insurance id number)", problems)


def claim_total(claim: Claim) -> Money:
    """The claim's total charge (CLM02, box 28): the sum of its lines."""
    currency = claim.lines[0].charge.currency if claim.lines else "USD"
    total = Money.zero(currency)
    for line in claim.lines:
        total = total + line.charge
    return total


def claim_problems(claim: Claim) -> tuple[str, ...]:
    """Every required item that is missing or malformed, in words for the front desk; () when it can go."""
    problems: list[str] = []
    _text_problem(claim.claim_id, "Claim number (patient account number)", problems)
    if len((claim.claim_id or "").strip()) > 38:
        problems.append(f"Claim number {claim.claim_id!r} is longer than 38 characters.")
    provider = claim.billing_provider
    _text_problem(provider.name, "Billing provider name", problems)
    if not npi_is_valid((provider.npi or "").strip()):
        problems.append(f"Billing provider NPI {provider.npi!r} is missing or not a valid 10-digit NPI.")
    if not _TAX_ID.match((provider.tax_id or "").replace("-", "").strip()):
        problems.append(f"Billing provider tax id (EIN) {provider.tax_id!r} is missing or not 9 digits.")
    _address_problems(provider.address, "Billing provider", problems)
    if not npi_is_valid((claim.rendering_npi or "").strip()):
        problems.append(
            f"Rendering provider NPI {claim.rendering_npi!r} is missing or not a valid 10-digit NPI."
        )
    _text_problem(claim.rendering_last_name, "Rendering provider's last name", problems)
    _text_problem(claim.rendering_first_name, "Rendering provider's first name", problems)
    _person_problems(claim.subscriber, "Subscriber", problems, member=True)
    if claim.relationship not in RELATIONSHIPS:
        problems.append(
            f"Patient's relationship to the subscriber {claim.relationship!r} is not one of "
            f"{', '.join(f'{k} ({v})' for k, v in RELATIONSHIPS.items())}."
        )
    elif claim.relationship == "18" and claim.patient is not None:
        problems.append("The patient is given apart from the subscriber but the relationship says self (18).")
    elif claim.relationship != "18":
        if claim.patient is None:
            problems.append("The patient is not the subscriber, but the patient's details are missing.")
        else:
            _person_problems(claim.patient, "Patient", problems, member=False)
    _text_problem(claim.payer.name, "Payer name", problems)
    _text_problem(claim.payer.payer_id, "Payer id", problems)
    if claim.payer.filing_indicator not in CLAIM_FILING_INDICATORS:
        problems.append(
            f"Payer's claim filing type {claim.payer.filing_indicator!r} is not one of "
            f"{', '.join(CLAIM_FILING_INDICATORS)}."
        )
    _text_problem(claim.prior_authorization, "Prior authorization number", problems, required=False)
    _text_problem(claim.group_number, "Group number", problems, required=False)
    if not re.fullmatch(r"\d{2}", claim.place_of_service or ""):
        problems.append(f"Place of service {claim.place_of_service!r} is not a 2-digit code (11 = office).")
    if not claim.diagnosis_codes:
        problems.append("No diagnosis code: at least 1 is required.")
    if len(claim.diagnosis_codes) > DIAGNOSES_MAX:
        problems.append(f"{len(claim.diagnosis_codes)} diagnosis codes: at most {DIAGNOSES_MAX} are allowed.")
    for index, code in enumerate(claim.diagnosis_codes, start=1):
        try:
            diagnosis_check(code, claim.indication if index == 1 else None)
        except DomainError as exc:
            problems.append(f"Diagnosis {index}: {exc.message}")
    if len(set(claim.diagnosis_codes)) != len(claim.diagnosis_codes):
        problems.append("A diagnosis code is listed twice.")
    if not claim.lines:
        problems.append("No service line: at least 1 is required.")
    if len(claim.lines) > LINES_MAX:
        problems.append(f"{len(claim.lines)} service lines: at most {LINES_MAX} are allowed on one claim.")
    currencies = {line.charge.currency for line in claim.lines}
    if len(currencies) > 1:
        problems.append(f"Service lines are in more than one currency ({', '.join(sorted(currencies))}).")
    for index, line in enumerate(claim.lines, start=1):
        _line_problems(line, index, len(claim.diagnosis_codes), problems)
    return tuple(problems)


def _line_problems(line: ServiceLine, index: int, diagnoses: int, problems: list[str]) -> None:
    label = f"Line {index}"
    if not re.fullmatch(r"[0-9A-Z]\d{3}[0-9A-Z]", line.code or ""):
        problems.append(f"{label}: procedure code {line.code!r} is not a 5-character CPT or HCPCS code.")
    if isinstance(line.units, bool) or not isinstance(line.units, int) or not 1 <= line.units <= 9999:
        problems.append(f"{label}: units {line.units!r} is outside the allowed range 1 to 9,999.")
    if line.charge.amount <= 0:
        problems.append(f"{label}: charge {line.charge} must be more than $0.00.")
    if not line.diagnosis_pointers:
        problems.append(f"{label}: no diagnosis pointer: point at 1 to 4 of the claim's diagnoses.")
    if len(line.diagnosis_pointers) > POINTERS_MAX:
        problems.append(f"{label}: {len(line.diagnosis_pointers)} diagnosis pointers; at most 4 are allowed.")
    for pointer in line.diagnosis_pointers:
        if not 1 <= pointer <= max(diagnoses, 0):
            problems.append(
                f"{label}: diagnosis pointer {pointer} does not point at one of the {diagnoses} diagnoses."
            )
    if len(line.modifiers) > MODIFIERS_MAX:
        problems.append(f"{label}: {len(line.modifiers)} modifiers; at most 4 are allowed.")
    for modifier in line.modifiers:
        if not re.fullmatch(r"[0-9A-Z]{2}", modifier):
            problems.append(f"{label}: modifier {modifier!r} is not 2 letters or digits.")
    if line.code in UNCLASSIFIED_CODES:
        if not line.description.strip():
            problems.append(
                f"{label}: {line.code} is an unclassified code and needs the drug's name and dose."
            )
        if not line.ndc:
            problems.append(f"{label}: {line.code} is an unclassified drug code and needs the drug's NDC.")
    _text_problem(line.description, f"{label} description", problems, required=False)
    if line.ndc:
        try:
            ndc_check(line.ndc)
        except DomainError as exc:
            problems.append(f"{label}: {exc.message}")
        if line.drug_quantity is None or line.drug_quantity <= 0:
            problems.append(f"{label}: the drug's quantity given (e.g. mg) is missing for NDC {line.ndc}.")
    if len(line.description) > 80:
        problems.append(f"{label}: description is longer than 80 characters.")


def _refuse_problems(claim: Claim) -> None:
    problems = claim_problems(claim)
    if problems:
        raise ValidationError(
            CLAIM_HAS_PROBLEMS.format(problems=" ".join(problems)), field="claim", value=problems[0]
        )


# --- X12 837P ---------------------------------------------------------------------------------------------


def _amount(money: Money) -> str:
    text = f"{money.amount:.2f}"
    return text[:-3] if text.endswith(".00") else text.rstrip("0")


def _up(text: str) -> str:
    return " ".join((text or "").upper().split())


def _zip(address: Address) -> str:
    return address.postal_code.replace("-", "").strip()


def _address_segments(address: Address) -> list[list[str]]:
    n3 = ["N3", _up(address.line1)] + ([_up(address.line2)] if address.line2.strip() else [])
    return [n3, ["N4", _up(address.city), address.state.strip().upper(), _zip(address)]]


def _person_segments(code: str, person: Person, *, member: bool) -> list[list[str]]:
    nm1 = ["NM1", code, "1", _up(person.last_name), _up(person.first_name)]
    if member:
        nm1 += ["", "", "", "MI", person.member_id.strip()]
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
        procedure = ":".join([*padded, _up(line.description)])
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
    _refuse_problems(claim)
    if not 1 <= control_number <= 999_999_999:
        raise ValidationError(
            f"Control number {control_number} is outside the allowed range 1 to 999,999,999.",
            field="control_number",
            value=control_number,
        )
    for label, value in (("Sender id", sender_id), ("Receiver id", receiver_id)):
        if not 2 <= len(value.strip()) <= 15 or _X12_RESERVED.search(value):
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
            claim.claim_id.strip()[:30],
            now.strftime("%Y%m%d"),
            now.strftime("%H%M"),
            "CH",
        ],
        ["NM1", "41", "2", _up(provider.name), "", "", "", "", "46", sender_id.strip()],
        [
            "PER",
            "IC",
            _up(provider.contact_name or provider.name),
            "TE",
            re.sub(r"\D", "", provider.phone) or "0000000000",
        ],
        ["NM1", "40", "2", _up(claim.payer.name), "", "", "", "", "46", receiver_id.strip()],
        ["HL", "1", "", "20", "1"],
        ["NM1", "85", "2", _up(provider.name), "", "", "", "", "XX", provider.npi.strip()],
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
            claim.group_number.strip(),
            "",
            "",
            "",
            "",
            "",
            claim.payer.filing_indicator,
        ],
        *_person_segments("IL", claim.subscriber, member=True),
        ["NM1", "PR", "2", _up(claim.payer.name), "", "", "", "", "PI", claim.payer.payer_id.strip()],
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
            claim.claim_id.strip(),
            _amount(claim_total(claim)),
            "",
            "",
            f"{claim.place_of_service}:B:1",
            yes[True],
            "A",
            yes[claim.assignment_of_benefits],
            "Y" if claim.signature_on_file else "N",
        ]
    )
    if claim.prior_authorization.strip():
        body.append(["REF", "G1", claim.prior_authorization.strip()])
    diagnoses = [diagnosis_check(c).replace(".", "") for c in claim.diagnosis_codes]
    body.append(["HI", *[f"{'ABK' if i == 0 else 'ABF'}:{code}" for i, code in enumerate(diagnoses)]])
    body.append(
        [
            "NM1",
            "82",
            "1",
            _up(claim.rendering_last_name),
            _up(claim.rendering_first_name),
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
    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12n_document

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


# --- CMS-1500 ---------------------------------------------------------------------------------------------


def _name(person: Person) -> str:
    return f"{_up(person.last_name)}, {_up(person.first_name)}"


def _mdy(day: date | None) -> str:
    return day.strftime("%m %d %Y") if day else ""


def cms1500_fields(claim: Claim) -> dict[str, str]:
    """The CMS-1500 (02/12) boxes as text, keyed by box number (NUCC reference manual): ``"1a"``,
    ``"21A"``..``"21L"``, and per service line ``"24A.1"`` (dates), ``"24B.1"`` (place), ``"24D.1"``
    (code and modifiers), ``"24E.1"`` (pointers as letters), ``"24F.1"`` (charge), ``"24G.1"`` (units),
    ``"24J.1"`` (rendering NPI), with the NDC on the shaded line as ``"24shaded.1"``."""
    _refuse_problems(claim)
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
        "23": claim.prior_authorization.strip(),
        "25": provider.tax_id.replace("-", "").strip(),
        "25_type": "EIN",
        "26": claim.claim_id.strip(),
        "27": "YES" if claim.assignment_of_benefits else "NO",
        "28": f"{claim_total(claim).amount:.2f}",
        "31": f"{_up(claim.rendering_first_name)} {_up(claim.rendering_last_name)}",
        "33": f"{_up(provider.name)}\n{_up(provider.address.line1)}\n"
        f"{_up(provider.address.city)} {provider.address.state.upper()} {_zip(provider.address)}",
        "33a": provider.npi.strip(),
    }
    for who, box in ((patient, "5"), (claim.subscriber, "7")):
        if who.address is not None:
            out[box] = (
                f"{_up(who.address.line1)}\n"
                f"{_up(who.address.city)} {who.address.state.upper()} {_zip(who.address)}"
            )
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
            out[f"24shaded.{n}"] = _up(line.description)
    return out
