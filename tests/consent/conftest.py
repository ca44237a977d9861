from __future__ import annotations

import base64

import pytest

from ketaclinic.consent.services import consent_documents_load_shipped

# A real 1x1 PNG, as a signature pad's data URL.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNk+A8AAQUBAScY42YAAAAASUVORK5CYII="
)
SIGNATURE = "data:image/png;base64," + base64.b64encode(PNG).decode()


@pytest.fixture
def consent_doc(db):
    return consent_documents_load_shipped()[0]
