from django import template

register = template.Library()


@register.filter
def getfield(form, name):  # type: ignore[no-untyped-def]
    """A bound field of ``form`` by name (for fields built from protocol data)."""
    return form[name]
