"""Staff accounts, roles, clinic locations, sign-in (lockout, TOTP), automatic logoff and break-glass."""
