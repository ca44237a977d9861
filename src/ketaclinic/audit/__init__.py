"""The audit trail: append-only, hash-chained (keyed), every view and change of a patient's record."""
