"""The back office's pure core (issue 14): money, the patient account's ledger rules, packages, prior
authorizations, CPT/HCPCS/ICD-10-CM codes, claims (X12 837P and CMS-1500 fields) and AR ageing.

No Django, no I/O: the billing app stores entries and calls these functions to decide what is allowed.
Every rule's source is in docs/billing-codes.md and in the docstring of the function that applies it.
"""
