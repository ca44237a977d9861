"""The rules of an infusion session, pure: state machine, vital signs, checklist, delivered dose, discharge.

Everything safety-critical about a running session is decided here, over frozen dataclasses and the
protocol's ``monitoring``, ``checklist`` and ``discharge`` sections; the ``infusions`` Django app only
stores what happened and calls these functions.
"""
