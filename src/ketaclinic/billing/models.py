"""The back office's records. Money is stored as integer cents with its ISO 4217 currency, never a float.

The ledger (``LedgerEntry``) and package uses (``PackageUse``) are append-only: a trigger refuses UPDATE and
DELETE on both databases (migration 0002); a correction is a REVERSAL entry pointing at what it corrects, and
a cancelled session's unit comes back as a RETURN use. Balances are derived from the entries, never stored.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.accounts.models import Location
from ketaclinic.base.models import ClinicRecord, ExternalIdentity
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.patients.models import Patient

USER = settings.AUTH_USER_MODEL
CURRENCIES = [("USD", "US dollar"), ("CAD", "Canadian dollar"), ("EUR", "Euro"), ("GBP", "Pound sterling")]


class Package(ExternalIdentity):
    """What a clinic sells: a number of infusions and integration sessions (clinic data, seeded)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    infusions = models.PositiveSmallIntegerField()
    integration_sessions = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(name="package_has_an_infusion", condition=models.Q(infusions__gte=1))
        ]

    def __str__(self) -> str:
        return self.name


class PriceList(ClinicRecord):
    """The prices from a day on, for one location or (no location) every location without its own."""

    name = models.CharField(max_length=120)
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="price_lists"
    )
    currency = models.CharField(max_length=3, choices=CURRENCIES)
    effective_from = models.DateField()
    late_cancel_hours = models.PositiveSmallIntegerField(
        default=24, help_text="A cancellation later than this many hours before the start is charged the fee."
    )
    late_cancel_fee_cents = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(name="price_list_currency_given", condition=~models.Q(currency=""))
        ]

    def __str__(self) -> str:
        return f"{self.name} from {self.effective_from:%Y-%m-%d}"


class Price(models.Model):
    """One item's price on a price list: a package, or a single session (``item`` names it)."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="prices")
    package = models.ForeignKey(
        Package, null=True, blank=True, on_delete=models.PROTECT, related_name="prices"
    )
    item = models.CharField(max_length=40, blank=True, help_text="A single-session item: 'maintenance'.")
    amount_cents = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["price_list", "package"], name="one_price_per_package_per_list"),
            models.CheckConstraint(name="price_is_positive", condition=models.Q(amount_cents__gt=0)),
        ]


class Account(ExternalIdentity):
    """A patient's account: every money write locks this row first (``select_for_update``, the row alone)."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="billing_account")
    currency = models.CharField(max_length=3, choices=CURRENCIES, default="USD")
    opened_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Account of {self.patient}"


class LedgerEntry(ExternalIdentity):
    """One money movement on an account, never changed: its amount is always positive; the kind (and, for an
    adjustment, the direction) gives its sign."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        PAYMENT = "payment", "Payment"
        ADJUSTMENT = "adjustment", "Adjustment"
        REFUND = "refund", "Refund"
        WRITE_OFF = "write_off", "Write-off"
        REVERSAL = "reversal", "Reversal"

    class Method(models.TextChoices):
        CASH = "cash", "Cash"
        CHECK = "check", "Check"
        CARD = "card", "Card"
        HSA_FSA = "hsa_fsa", "HSA/FSA card"
        FINANCING = "financing", "Financing plan"
        INSURANCE = "insurance", "Insurance"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3, choices=CURRENCIES)
    direction = models.SmallIntegerField(
        default=1, help_text="For an adjustment: +1 adds to what is owed, -1 takes off."
    )
    method = models.CharField(max_length=12, choices=Method.choices, blank=True)
    processor_reference = models.CharField(max_length=80, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    check_number = models.CharField(max_length=20, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    session = models.ForeignKey(
        InfusionSession, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    description = models.CharField(max_length=200)
    reason = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["account", "recorded_at"])]
        constraints = [
            models.CheckConstraint(name="entry_amount_positive", condition=models.Q(amount_cents__gt=0)),
            models.CheckConstraint(name="entry_direction_sign", condition=models.Q(direction__in=[1, -1])),
            models.CheckConstraint(name="entry_currency_given", condition=~models.Q(currency="")),
            models.CheckConstraint(
                name="entry_last4_digits_only",
                condition=models.Q(card_last4="") | models.Q(card_last4__regex=r"^[0-9]{4}$"),
            ),
        ]


class PackageSale(ExternalIdentity):
    """A package sold to a patient, with what it includes as sold (the package may change later)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="package_sales")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="sales")
    infusions = models.PositiveSmallIntegerField()
    integration_sessions = models.PositiveSmallIntegerField(default=0)
    charge = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="package_sale")
    sold_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    sold_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sold_at", "id"]


class PackageUse(models.Model):
    """A session taking a unit of a package (USE) or giving it back when cancelled (RETURN). Append-only."""

    class Kind(models.TextChoices):
        USE = "use", "Used"
        RETURN = "return", "Given back"

    sale = models.ForeignKey(PackageSale, on_delete=models.PROTECT, related_name="uses")
    session = models.ForeignKey(InfusionSession, on_delete=models.PROTECT, related_name="package_uses")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "kind"], name="one_use_and_one_return_per_session")
        ]


class Payer(ExternalIdentity):
    class Kind(models.TextChoices):
        COMMERCIAL = "commercial", "Commercial insurer"
        WORKERS_COMP = "workers_comp", "Workers' compensation carrier"
        MEDICARE = "medicare", "Medicare"
        MEDICAID = "medicaid", "Medicaid"
        OTHER = "other", "Other"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=14, choices=Kind.choices)
    payer_id = models.CharField(max_length=20, blank=True, help_text="The payer's electronic claims id.")
    address = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(
        default=True,
        help_text="Still billed by the clinic. An inactive payer takes no new policies; its policies on file "
        "and their claims stay.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InsurancePolicy(ClinicRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="insurance_policies")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="policies")
    member_id = models.CharField(max_length=40)
    group_number = models.CharField(max_length=40, blank=True)
    coverage_percent = models.PositiveSmallIntegerField(help_text="The share the payer covers (0-100).")
    priority = models.PositiveSmallIntegerField(default=1, help_text="1 primary, 2 secondary.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["patient", "priority"]
        constraints = [
            models.CheckConstraint(
                name="coverage_percent_range", condition=models.Q(coverage_percent__lte=100)
            ),
            models.CheckConstraint(name="policy_priority_range", condition=models.Q(priority__gte=1)),
        ]


class PriorAuthorization(ClinicRecord):
    class Status(models.TextChoices):
        APPROVED = "approved", "Approved"
        PENDING = "pending", "Pending"
        DENIED = "denied", "Denied"
        EXPIRED = "expired", "Expired"

    policy = models.ForeignKey(InsurancePolicy, on_delete=models.PROTECT, related_name="authorizations")
    number = models.CharField(max_length=40)
    approved_units = models.PositiveSmallIntegerField()
    first_day = models.DateField()
    last_day = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPROVED)

    class Meta:
        ordering = ["last_day"]
        constraints = [
            models.CheckConstraint(
                name="authorization_first_not_after_last",
                condition=models.Q(first_day__lte=models.F("last_day")),
            )
        ]


class StatementLink(models.Model):
    """A one-time link by which a patient reads their statement (the token is stored hashed)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="statement_links")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")


class SubmittedForm(models.Model):
    """The one-time key of a money form on the account page (sell, pay, finance, refund, reverse). Kept in the
    same transaction as what the form records, so a second submission of the same form (a double click, a
    request the browser sent again) finds its key taken and records nothing: no card charged or refunded
    twice, no package sold twice."""

    key = models.UUIDField(unique=True)
    submitted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)


class BillingProvider(models.Model):
    """Who bills: the clinic's legal name, group NPI and tax id, for a location (or every location)."""

    location = models.OneToOneField(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="billing_provider"
    )
    name = models.CharField(max_length=120)
    npi = models.CharField("NPI", max_length=10)
    tax_id = models.CharField("Tax id (EIN)", max_length=10)
    address = models.CharField(max_length=200)
    city = models.CharField(max_length=80)
    state = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=10)
    phone = models.CharField(max_length=30, blank=True)
    ketamine_ndc = models.CharField(
        "Ketamine NDC",
        max_length=13,
        blank=True,
        help_text="The 11-digit NDC of the ketamine vials stocked: a claim's J3490 line must carry it.",
    )

    def __str__(self) -> str:
        return self.name


class FinancingPlan(ExternalIdentity):
    """A balance due paid in instalments (issue 14): the instalments and their due dates are the core's
    (``core.billing.financing``), computed from these fields; payments recorded on the account from the plan's
    creation on are applied to them oldest-due-first."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="financing_plans")
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3, choices=CURRENCIES)
    instalments = models.PositiveSmallIntegerField()
    interval_months = models.PositiveSmallIntegerField(default=1)
    first_due = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="financing_plan_amount_positive", condition=models.Q(amount_cents__gt=0)
            ),
            models.CheckConstraint(
                name="financing_plan_instalments_2_to_24",
                condition=models.Q(instalments__gte=2, instalments__lte=24),
            ),
        ]


class LateCancelFee(models.Model):
    """The late-cancellation fee charged for one cancelled appointment: at most one per appointment (the
    unique key makes the charge idempotent), pointing at its ledger charge (waived by reversing that)."""

    appointment = models.OneToOneField(
        "scheduling.Appointment", on_delete=models.PROTECT, related_name="late_cancel_fee"
    )
    charge = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="late_cancel_fee")
