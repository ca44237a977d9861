from django.urls import path

from ketaclinic.billing import document_views, views

app_name = "billing"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("reports/", views.report, name="report"),
    path("patients/<uuid:external_id>/statement-link/", views.statement_link, name="statement_link"),
    path("reports.csv", views.report, {"as_csv": True}, name="report_csv"),
    path("patients/<uuid:external_id>/", views.account, name="account"),
    path("patients/<uuid:external_id>/receipt/", views.receipt, name="receipt"),
    path("patients/<uuid:external_id>/receipt.pdf", views.receipt, {"as_pdf": True}, name="receipt_pdf"),
    path("sessions/<uuid:external_id>/bill/", views.session_bill, name="session_bill"),
    path("sessions/<uuid:external_id>/claim/", views.claim, name="claim"),
    path("sessions/<uuid:external_id>/claim.pdf", views.claim, {"as_pdf": True}, name="claim_pdf"),
    path("sessions/<uuid:external_id>/claim.837", views.claim, {"as_x12": True}, name="claim_837"),
    path("sessions/<uuid:external_id>/superbill/", views.superbill, name="superbill"),
    path(
        "sessions/<uuid:external_id>/superbill.pdf", views.superbill, {"as_pdf": True}, name="superbill_pdf"
    ),
    path("patients/<uuid:external_id>/invoice/", document_views.invoice, name="invoice"),
    path(
        "patients/<uuid:external_id>/invoice.pdf",
        document_views.invoice,
        {"as_pdf": True},
        name="invoice_pdf",
    ),
    path("patients/<uuid:external_id>/superbill/", document_views.superbill_period, name="superbill_period"),
    path(
        "patients/<uuid:external_id>/superbill.pdf",
        document_views.superbill_period,
        {"as_pdf": True},
        name="superbill_period_pdf",
    ),
    path("payers/", views.payers, name="payers"),
    path("payers/<uuid:external_id>/", views.payer_edit, name="payer_edit"),
    path("payers/<uuid:external_id>/active/", views.payer_active, name="payer_active"),
    path("patients/<uuid:external_id>/policies/", views.policy_add, name="policy_add"),
    path("policies/<uuid:external_id>/", views.policy_edit, name="policy_edit"),
    path("policies/<uuid:external_id>/deactivate/", views.policy_deactivate, name="policy_deactivate"),
    path("policies/<uuid:external_id>/authorizations/", views.authorization_add, name="authorization_add"),
    path(
        "authorizations/<uuid:external_id>/status/", views.authorization_status, name="authorization_status"
    ),
]
