"""Measurement-based care: questionnaire responses (staff and patient links), safety flags, boosters."""
