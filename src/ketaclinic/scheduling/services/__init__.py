"""The front desk's writes: book, move and cancel an appointment; book a signed plan's series."""

from ketaclinic.scheduling.services.appointments import appointment_book, appointment_cancel, appointment_move
from ketaclinic.scheduling.services.series import plan_series_book

__all__ = ["appointment_book", "appointment_cancel", "appointment_move", "plan_series_book"]
