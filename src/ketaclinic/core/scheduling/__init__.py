"""The front desk's rules, pure: time intervals and clashes, opening hours and closures in the location's
time zone, staff shifts, what each kind of appointment needs, and the nearest free starts to offer."""
