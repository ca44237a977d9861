"""Background jobs: the clinic's work that runs outside a request, through Django's Tasks API (the
``django-tasks`` backport and its database backend, so SQLite and PostgreSQL need no other service).

``retries`` adds what the Tasks API lacks (retries with exponential backoff, a recorded final failure),
``schedule`` enqueues the periodic jobs declared in code once per period, ``selectors`` and ``views`` show
the queue to the clinic's admin. See docs/jobs.md."""
