"""ketaclinic: software that runs an IV ketamine infusion clinic."""

__version__ = "0.1.0"
