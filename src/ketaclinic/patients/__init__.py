"""The patient registry: demographics, contacts, escort, body measurements, allergies, medications."""
