"""Medications that interact with ketamine treatment are flagged by class, by generic or brand name."""

from __future__ import annotations

import pytest

from ketaclinic.core.medications import InteractionClass, interactions_for


@pytest.mark.parametrize(
    ("name", "klass"),
    [
        ("alprazolam", InteractionClass.BENZODIAZEPINE),
        ("Xanax 0.5 mg", InteractionClass.BENZODIAZEPINE),
        ("LORAZEPAM", InteractionClass.BENZODIAZEPINE),
        ("clonazepam", InteractionClass.BENZODIAZEPINE),
        ("diazepam", InteractionClass.BENZODIAZEPINE),
        ("chlordiazepoxide", InteractionClass.BENZODIAZEPINE),
        ("Lamictal", InteractionClass.LAMOTRIGINE),
        ("lamotrigine ER", InteractionClass.LAMOTRIGINE),
        ("phenelzine", InteractionClass.MAOI),
        ("Emsam patch", InteractionClass.MAOI),
        ("tranylcypromine", InteractionClass.MAOI),
        ("Adderall XR", InteractionClass.STIMULANT),
        ("methylphenidate", InteractionClass.STIMULANT),
        ("Vyvanse", InteractionClass.STIMULANT),
    ],
)
def test_interacting_medications_are_flagged(name, klass):
    found = interactions_for(name)
    assert [i.klass for i in found] == [klass]
    assert found[0].advice


@pytest.mark.parametrize(
    "name", ["sertraline", "bupropion XL", "escitalopram", "ondansetron", "", "lamb stew"]
)
def test_other_medications_are_not_flagged(name):
    assert interactions_for(name) == ()


def test_matching_is_on_whole_words():
    assert interactions_for("dexamphetamine-free") == ()
    assert interactions_for("amphetamine salts")[0].klass == InteractionClass.STIMULANT
