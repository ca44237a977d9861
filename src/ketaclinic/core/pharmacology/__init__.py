"""The dose and pharmacokinetics engine: pure functions over frozen dataclasses, no Django, no I/O.

* ``units``       quantities with units (a number without a unit is refused)
* ``dosing``      dosing weight (actual / Devine IBW / adjusted), dose with soft and hard limits, pump program
* ``models``      ketamine PK parameter sets with their sources
* ``regimen``     bolus / infusion / pause segments
* ``simulation``  exact plasma and effect-site concentrations (matrix exponential) and their summary
* ``population``  vectorised virtual-patient simulation with inter-individual variability
* ``target``      a rate schedule that reaches and holds a target plasma concentration

Submodules are imported by name; this package imports nothing so that the protocol schema can use the
model registry without an import cycle.
"""
