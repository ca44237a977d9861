"""The pure domain core.

Everything safety-critical (eligibility, dose, limits, thresholds, discharge, ledger rules) is decided
here, as plain functions over immutable values. This package imports no Django and does no I/O;
``tests/core/test_purity.py`` enforces it.
"""
