from __future__ import annotations

from django import forms


class SignatureForm(forms.Form):
    document = forms.UUIDField(widget=forms.HiddenInput)
    typed_name = forms.CharField(max_length=160, label="Full name (typed)")
    signature = forms.CharField(widget=forms.HiddenInput, required=False)
    read = forms.BooleanField(label="I have read the text above and my questions were answered")


class PublicSignatureForm(SignatureForm):
    document = None  # type: ignore[assignment]  # the link names the version


class DocumentForm(forms.Form):
    code = forms.SlugField(max_length=60, initial="ketamine-infusion")
    title = forms.CharField(max_length=200)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18}), help_text="Blank lines separate paragraphs."
    )
    changelog = forms.CharField(max_length=300, label="What changed, and why")
