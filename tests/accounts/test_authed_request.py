"""A view that takes an ``AuthedRequest`` (ketaclinic.accounts.http) tells the type checker its user is
signed in. Django does not read the annotation: these tests hold the promise. Every page that declares one
sends an anonymous request to sign-in before the view runs, and every API operation that declares one
authenticates first (ninja answers 401 before the operation runs)."""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.web.api import api

pytestmark = pytest.mark.django_db

CONVERTER_SAMPLES = {"uuid": str(uuid.UUID(int=1)), "int": "1", "slug": "x", "str": "x", "path": "x"}


def _takes_authed_request(view: Callable[..., Any]) -> bool:
    function = inspect.unwrap(view)
    parameter = inspect.signature(function).parameters.get("request")
    if parameter is None:
        return False
    annotation = parameter.annotation
    if isinstance(annotation, str):  # postponed (from __future__ import annotations): as the module names it
        annotation = function.__globals__.get(annotation)
    return annotation is AuthedRequest


def _pages(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _pages(entry, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def _url(route: str) -> str:
    return "/" + re.sub(
        r"<(?:(\w+):)?\w+>", lambda m: CONVERTER_SAMPLES[m.group(1) or "str"], route.lstrip("^").rstrip("$")
    )


def _authed_pages() -> list[tuple[str, str]]:
    return sorted(
        (entry.name or route, _url(route))
        for route, entry in _pages(get_resolver())
        if _takes_authed_request(entry.callback)
    )


def test_the_pages_and_operations_that_declare_a_signed_in_user_are_found() -> None:
    assert len(_authed_pages()) >= 75  # every page behind sign-in
    operations = _operations()
    assert len(operations) >= 60
    assert all(_takes_authed_request(op.view_func) for op in operations)  # the API is all behind sign-in


@pytest.mark.parametrize(("name", "url"), _authed_pages())
def test_a_page_that_takes_an_authed_request_sends_an_anonymous_visitor_to_sign_in(
    client: Client, name: str, url: str
) -> None:
    login = reverse("accounts:login")
    answers = {method: client.generic(method, url) for method in ("GET", "POST")}
    to_sign_in = [m for m, r in answers.items() if r.status_code == 302 and r["Location"].startswith(login)]
    assert to_sign_in, (name, url, {m: r.status_code for m, r in answers.items()})
    # a method the page does not take is refused before the view runs (405); any other answer ran the view
    assert all(m in to_sign_in or r.status_code == 405 for m, r in answers.items()), (name, url)


def _operations() -> list[Any]:
    return [
        operation
        for router in api._get_bound_routers()
        for path_view in router.path_operations.values()
        for operation in path_view.operations
    ]


def test_an_operation_that_takes_an_authed_request_authenticates_first() -> None:
    unauthenticated = [
        op.view_func.__qualname__
        for op in _operations()
        if _takes_authed_request(op.view_func) and not op.auth_callbacks
    ]
    assert not unauthenticated
