"""What a professional claim holds and what must be on it: the plain data of a claim and ``claim_problems``,
which names every missing or malformed required item in words for the front desk (issue 14).

Element lengths and code sets are those of ASC X12N 005010X222A1 (837P); box numbers in comments are the
CMS-1500 (02/12) form's (NUCC reference instruction manual). ``claims`` is the module the billing app imports.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ketaclinic.core.billing.codes import CodeLine, diagnosis_check, ndc_check
from ketaclinic.core.billing.money import Money
from ketaclinic.core.errors import DomainError, ValidationError
from ketaclinic.core.input_rules import npi_is_valid

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
#: Claim frequency (CLM05-3, CMS-1500 box 22): a corrected claim replaces or voids the payer's earlier one.
CLAIM_FREQUENCIES = {"1": "original", "7": "replacement of an earlier claim", "8": "void of an earlier claim"}
#: Up to 12 diagnosis codes on an 837P (HI segment) and on the CMS-1500 (box 21 A–L).
DIAGNOSES_MAX = 12
#: Up to 4 diagnosis pointers and 4 modifiers per line; 50 service lines per 837P claim.
POINTERS_MAX = 4
MODIFIERS_MAX = 4
LINES_MAX = 50
X12_RESERVED = re.compile(r"[*~:^|\\]")
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
    frequency: str = "1"  # 1 original, 7 replacement, 8 void (CLM05-3; CMS-1500 box 22)
    original_reference: str = ""  # the payer's claim number of the claim replaced or voided


# --- problems --------------------------------------------------------------------------------------------


#: Letters NFKD does not take apart, written as a claim spells them.
_LETTERS = str.maketrans(
    {"ß": "ss", "Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE"}
    | {"œ": "oe", "’": "'", "‘": "'", "–": "-", "—": "-"}
)


def claim_text(value: str) -> str:
    """Text as a claim carries it: accents taken off (José → Jose), other letters spelled in ASCII (ß → ss),
    runs of spaces made one. Characters with no ASCII spelling are left for ``claim_problems`` to name."""
    decomposed = unicodedata.normalize("NFKD", (value or "").translate(_LETTERS))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.split())


def _text_problem(
    value: str, label: str, problems: list[str], *, required: bool = True, low: int = 1, high: int = 60
) -> None:
    """Names a missing value, one with a character X12 reserves or cannot carry, or one outside the element's
    length in 005010X222A1 (e.g. a city is 2 to 30 characters)."""
    text = claim_text(value)
    if required and not text:
        problems.append(f"{label} is missing.")
    elif text and not low <= len(text) <= high:
        size = f"{len(text)} character{'s' if len(text) != 1 else ''}"
        problems.append(f"{label} {text!r} is {size} long: {low} to {high} are allowed.")
    elif X12_RESERVED.search(text):
        problems.append(
            f"{label} {text!r} contains one of the characters * ~ : ^ | \\, which claims cannot carry."
        )
    elif any(not " " <= ch <= "~" for ch in text):
        problems.append(f"{label} {value!r} has characters a claim cannot carry: write it in Latin letters.")


def _address_problems(address: Address | None, label: str, problems: list[str]) -> None:
    if address is None:
        problems.append(f"{label} address is missing.")
        return
    _text_problem(address.line1, f"{label} street address", problems, high=55)
    _text_problem(address.line2, f"{label} second address line", problems, required=False, high=55)
    _text_problem(address.city, f"{label} city", problems, low=2, high=30)
    if not _STATE.match((address.state or "").strip().upper()):
        problems.append(f"{label} state {address.state!r} is not a 2-letter state code (e.g. TX).")
    if not _ZIP.match((address.postal_code or "").replace("-", "").strip()):
        problems.append(f"{label} ZIP code {address.postal_code!r} is not 5 or 9 digits.")


def _person_problems(person: Person, label: str, problems: list[str], *, member: bool) -> None:
    _text_problem(person.last_name, f"{label}'s last name", problems)
    _text_problem(person.first_name, f"{label}'s first name", problems, high=35)
    if person.birth_date is None:
        problems.append(f"{label}'s date of birth is missing.")
    if person.sex not in SEXES:
        problems.append(f"{label}'s sex {person.sex!r} is not one of F, M or U (unknown).")
    _address_problems(person.address, label, problems)
    if member:
        _text_problem(
            person.member_id, f"{label}'s member id (insurance id number)", problems, low=2, high=80
        )


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
    _text_problem(claim.claim_id, "Claim number (patient account number)", problems, high=38)
    provider = claim.billing_provider
    _text_problem(provider.name, "Billing provider name", problems)
    if not npi_is_valid((provider.npi or "").strip()):
        problems.append(f"Billing provider NPI {provider.npi!r} is missing or not a valid 10-digit NPI.")
    if not _TAX_ID.match((provider.tax_id or "").replace("-", "").strip()):
        problems.append(f"Billing provider tax id (EIN) {provider.tax_id!r} is missing or not 9 digits.")
    _address_problems(provider.address, "Billing provider", problems)
    if len(phone_digits(provider.phone)) != 10:
        problems.append(
            f"Billing provider phone {provider.phone!r} is missing or not a 10-digit US number "
            "(the clearinghouse's contact for this claim)."
        )
    if not npi_is_valid((claim.rendering_npi or "").strip()):
        problems.append(
            f"Rendering provider NPI {claim.rendering_npi!r} is missing or not a valid 10-digit NPI."
        )
    _text_problem(claim.rendering_last_name, "Rendering provider's last name", problems)
    _text_problem(claim.rendering_first_name, "Rendering provider's first name", problems, high=35)
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
    _text_problem(claim.payer.payer_id, "Payer id", problems, low=2, high=80)
    if claim.payer.filing_indicator not in CLAIM_FILING_INDICATORS:
        problems.append(
            f"Payer's claim filing type {claim.payer.filing_indicator!r} is not one of "
            f"{', '.join(CLAIM_FILING_INDICATORS)}."
        )
    _text_problem(claim.prior_authorization, "Prior authorization number", problems, required=False, high=50)
    _text_problem(claim.group_number, "Group number", problems, required=False, high=50)
    if claim.frequency not in CLAIM_FREQUENCIES:
        problems.append(
            f"Claim type {claim.frequency!r} is not one of "
            f"{', '.join(f'{k} ({v})' for k, v in CLAIM_FREQUENCIES.items())}."
        )
    elif claim.frequency != "1":
        _text_problem(
            claim.original_reference, "The payer's number of the claim replaced or voided", problems, high=50
        )
    elif claim.original_reference.strip():
        problems.append(
            "An original claim has no payer's claim number to replace: leave it empty or choose 7 or 8."
        )
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
    _text_problem(line.description, f"{label} description", problems, required=False, high=80)
    if line.ndc:
        try:
            ndc_check(line.ndc)
        except DomainError as exc:
            problems.append(f"{label}: {exc.message}")
        if line.drug_quantity is None or line.drug_quantity <= 0:
            problems.append(f"{label}: the drug's quantity given (e.g. mg) is missing for NDC {line.ndc}.")


def refuse_problems(claim: Claim) -> None:
    """Refuses a claim with any ``claim_problems``, naming all of them."""
    problems = claim_problems(claim)
    if problems:
        raise ValidationError(
            CLAIM_HAS_PROBLEMS.format(problems=" ".join(problems)), field="claim", value=problems[0]
        )


def upper_text(text: str) -> str:
    """Text as written on a claim: ``claim_text`` in capitals."""
    return claim_text(text).upper()


def phone_digits(phone: str) -> str:
    """A US phone number's 10 digits as a claim carries them ("(512) 555-0100" → 5125550100; a leading 1
    dropped)."""
    digits = "".join(ch for ch in phone or "" if ch.isascii() and ch.isdigit())
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def zip_digits(address: Address) -> str:
    return address.postal_code.replace("-", "").strip()
