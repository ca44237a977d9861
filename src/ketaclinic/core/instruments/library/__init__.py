"""Instrument definitions shipped as package data (one YAML file per instrument)."""
