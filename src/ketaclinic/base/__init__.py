"""The floor under the apps: what every app builds on and that knows no app.

- ``models``: the base of every clinical record (``ClinicRecord``) and ``clean_or_refuse``;
- ``db_guards``: the triggers that keep clinical rows append-only or frozen (used by migrations; frozen);
- ``pdf``: rendering a page to PDF with WeasyPrint;
- ``api_types``: field types the API shares (a decimal given as a number or as text);
- ``time_zones``: showing times in the zone of the location a page is about.

It imports Django, the pure core and nothing above it (the import contract in pyproject.toml).
"""
