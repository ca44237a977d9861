"""The Django project: settings, URLs, base templates, static files and the one API error handler."""
