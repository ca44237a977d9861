"""The audit tests use the access tests' small clinic (staff, patients, a referral, two screenings)."""

from tests.accounts.conftest import clinic  # noqa: F401  (a fixture, re-exported for tests/audit)
