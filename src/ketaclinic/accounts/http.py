"""The request a view behind sign-in receives: its ``user`` is a clinic :class:`User`, never anonymous.

Django types ``request.user`` as ``User | AnonymousUser``. A page decorated with ``login_required`` and every
API operation (the API authenticates each one with the session: ``ketaclinic.web.api``) only runs for a
signed-in user, so it takes an :class:`AuthedRequest` and hands ``request.user`` to the services as the
``User`` they require. Pages reachable without signing in (sign-in, the error pages, a patient's one-time
questionnaire or consent link) keep :class:`~django.http.HttpRequest` and narrow ``request.user`` themselves.

Only a type: Django still passes its own request object. tests/accounts/test_authed_request.py holds the
promise: every page or operation that declares an ``AuthedRequest`` refuses an anonymous request before
the view runs.
"""

from __future__ import annotations

from django.http import HttpRequest

from ketaclinic.accounts.models import User


class AuthedRequest(HttpRequest):
    user: User
