"""Consent: shipped documents load idempotently, editing makes a new version, signatures in the clinic and
by one-time link, refusals (audited), immutability, ``consent_on_file`` and the status after a new version."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.consent import selectors, services
from ketaclinic.consent.models import ConsentDocument, ConsentLink, ConsentSignature
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from tests.consent.conftest import PNG, SIGNATURE

pytestmark = pytest.mark.django_db


def sign(staff, patient, doc, **kw):
    args = dict(
        user=staff[Role.NURSE],
        patient=patient,
        document=doc,
        typed_name="Maria Garcia",
        signature_data=SIGNATURE,
    )
    args.update(kw)
    return services.consent_sign_in_clinic(**args)


def test_shipped_document_loads_once_with_the_seed_text(consent_doc):
    again = services.consent_documents_load_shipped()
    assert [d.pk for d in again] == [consent_doc.pk] and ConsentDocument.objects.count() == 1
    text = consent_doc.body.lower()
    for phrase in (
        "off-label",
        "dissociation",
        "perceptual changes",
        "nausea",
        "blood pressure",
        "drowsy",
        "do not drive or operate heavy machinery for 24 hours",
        "alcohol for 48 hours",
        "major decisions for 24 hours",
        "someone must drive you home",
        "stop the treatment",
    ):
        assert phrase in text, phrase


def test_editing_makes_a_new_version_and_asks_for_a_new_signature(staff, patient, consent_doc):
    sign(staff, patient, consent_doc)
    assert selectors.consent_on_file(patient).state == selectors.ON_FILE
    with pytest.raises(PermissionDenied, match="may not edit consent documents"):
        services.consent_document_edit(
            user=staff[Role.NURSE], code=consent_doc.code, title="x", body="y", changelog="z"
        )
    with pytest.raises(ValidationError, match=services.UNCHANGED.format(version=1)):
        services.consent_document_edit(
            user=staff[Role.ADMIN],
            code=consent_doc.code,
            title=consent_doc.title,
            body=consent_doc.body,
            changelog="nothing",
        )
    v2 = services.consent_document_edit(
        user=staff[Role.ADMIN],
        code=consent_doc.code,
        title=consent_doc.title,
        body=consent_doc.body + "\n\nA new paragraph.",
        changelog="Add paragraph",
    )
    assert v2.version == 2 and ConsentDocument.objects.get(pk=consent_doc.pk).body == consent_doc.body
    status = selectors.consent_on_file(patient)
    assert status.state == selectors.NEW_SIGNATURE_NEEDED and status.missing == (v2,)
    assert status.label == "New signature needed (document changed)"
    # Consent as it stood before v2 existed was on file.
    assert selectors.consent_on_file(patient, at=v2.created_at - timedelta(microseconds=1)).ok
    with pytest.raises(
        ValidationError,
        match=re.escape(services.NOT_CURRENT.format(title=consent_doc.title, version=1, current=2)),
    ):
        sign(staff, patient, consent_doc)
    sign(staff, patient, v2)
    assert selectors.consent_on_file(patient).ok


def test_not_signed_and_signature_rules(staff, patient, consent_doc):
    assert selectors.consent_on_file(patient).state == selectors.NOT_SIGNED
    with pytest.raises(ValidationError, match=services.NAME_REQUIRED):
        sign(staff, patient, consent_doc, typed_name="  ")
    with pytest.raises(ValidationError) as exc:
        sign(staff, patient, consent_doc, typed_name="John Smith")
    assert exc.value.message == services.NAME_MISMATCH.format(value="John Smith", name="Maria Garcia")
    with pytest.raises(ValidationError, match=services.SIGNATURE_REQUIRED):
        sign(staff, patient, consent_doc, signature_data="")
    with pytest.raises(ValidationError, match=re.escape(services.SIGNATURE_NOT_PNG)):
        sign(staff, patient, consent_doc, signature_data="data:image/png;base64,bm90IGEgcG5n")
    with pytest.raises(PermissionDenied):
        sign(staff, patient, consent_doc, user=staff[Role.BILLING])
    assert not ConsentSignature.objects.exists()


def test_tablet_signature_is_stored_witnessed_and_immutable(staff, patient, consent_doc):
    sig = sign(staff, patient, consent_doc)
    sig.refresh_from_db()
    assert bytes(sig.signature_png) == PNG and sig.witnessed_by == staff[Role.NURSE]
    assert sig.document_sha256 == consent_doc.sha256 and sig.method == "tablet"
    assert AuditEntry.objects.filter(
        action="sign", summary__startswith="Consent signed in the clinic"
    ).exists()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ConsentSignature.objects.filter(pk=sig.pk).update(typed_name="Someone else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ConsentSignature.objects.filter(pk=sig.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ConsentDocument.objects.filter(pk=consent_doc.pk).update(body="changed")


def test_one_time_link_signs_once(staff, patient, consent_doc):
    link, token = services.consent_link_create(user=staff[Role.INTAKE], patient=patient, document=consent_doc)
    assert link.token_sha256 != token and token not in str(ConsentLink.objects.values().get())
    assert link.expires_at - link.created_at == timedelta(hours=72)
    assert services.consent_link_open(token=token).pk == link.pk
    sig = services.consent_sign_by_link(
        token=token, typed_name="maria garcia", signature_data=SIGNATURE, ip_address="10.0.0.9"
    )
    assert sig.method == "link" and sig.link == link and sig.witnessed_by is None
    assert selectors.consent_on_file(patient).ok
    with pytest.raises(services.ConsentLinkRefused, match="already used"):
        services.consent_sign_by_link(token=token, typed_name="Maria Garcia", signature_data=SIGNATURE)
    assert ConsentSignature.objects.count() == 1
    denied = AuditEntry.objects.filter(action="denied", summary__startswith="Consent link refused")
    assert denied.count() == 1 and denied.get().patient_external_id == patient.external_id
    with pytest.raises(DatabaseError, match="a used consent link cannot change"), transaction.atomic():
        ConsentLink.objects.filter(pk=link.pk).update(used_at=None)


def test_unknown_expired_and_replaced_links_refused_and_audited(staff, patient, consent_doc):
    with pytest.raises(services.ConsentLinkRefused, match=re.escape(services.LINK_UNKNOWN)):
        services.consent_link_open(token="nope")
    link, token = services.consent_link_create(user=staff[Role.INTAKE], patient=patient, document=consent_doc)
    ConsentLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(services.ConsentLinkRefused, match="expired"):
        services.consent_sign_by_link(token=token, typed_name="Maria Garcia", signature_data=SIGNATURE)
    link2, token2 = services.consent_link_create(
        user=staff[Role.INTAKE], patient=patient, document=consent_doc
    )
    services.consent_document_edit(
        user=staff[Role.ADMIN],
        code=consent_doc.code,
        title="New title",
        body=consent_doc.body,
        changelog="Title",
    )
    with pytest.raises(services.ConsentLinkRefused, match=re.escape(services.LINK_REPLACED)):
        services.consent_link_open(token=token2)
    assert AuditEntry.objects.filter(action="denied", summary__startswith="Consent link refused").count() == 3
    assert not ConsentSignature.objects.exists()


def test_a_bad_signature_through_a_link_leaves_the_link_usable(staff, patient, consent_doc):
    link, token = services.consent_link_create(user=staff[Role.INTAKE], patient=patient, document=consent_doc)
    with pytest.raises(ValidationError, match=services.SIGNATURE_REQUIRED):
        services.consent_sign_by_link(token=token, typed_name="Maria Garcia", signature_data="")
    link.refresh_from_db()
    assert link.used_at is None
    services.consent_sign_by_link(token=token, typed_name="Maria Garcia", signature_data=SIGNATURE)
