from django.urls import path

from ketaclinic.infusions import action_views, record_views, rems_views, views

app_name = "infusions"
urlpatterns = [
    path("board/", record_views.board, name="board"),
    path("board/slots/<uuid:external_id>/check-in/", record_views.slot_check_in, name="slot_check_in"),
    path("patient/<uuid:external_id>/", record_views.patient_sessions, name="patient_sessions"),
    path("patient/<uuid:external_id>/mar/", record_views.patient_mar, name="patient_mar"),
    path(
        "patient/<uuid:external_id>/mar.pdf",
        record_views.patient_mar,
        {"as_pdf": True},
        name="patient_mar_pdf",
    ),
    path("<uuid:external_id>/", views.session_page, name="session"),
    path("<uuid:external_id>/status/", views.session_status, name="status"),
    path("<uuid:external_id>/chart.svg", views.session_chart, name="chart"),
    path("<uuid:external_id>/mar/", record_views.session_mar, name="mar"),
    path("<uuid:external_id>/mar.pdf", record_views.session_mar, {"as_pdf": True}, name="mar_pdf"),
    path("<uuid:external_id>/instructions/", record_views.discharge_instructions, name="instructions"),
    path(
        "<uuid:external_id>/instructions.pdf",
        record_views.discharge_instructions,
        {"as_pdf": True},
        name="instructions_pdf",
    ),
    path("<uuid:external_id>/bag-check/", action_views.bag_check, name="bag_check"),
    path("<uuid:external_id>/note/", record_views.note_page, name="note"),
    path("<uuid:external_id>/note/generate/", record_views.note_generate, name="note_generate"),
    path("<uuid:external_id>/note/sign/", record_views.note_sign, name="note_sign"),
    path("<uuid:external_id>/note/addendum/", record_views.note_addendum, name="note_addendum"),
    path("<uuid:external_id>/rems/", rems_views.rems_form_page, name="rems_form"),
    path("<uuid:external_id>/rems/confirm/", rems_views.rems_form_confirm, name="rems_form_confirm"),
    path("<uuid:external_id>/rems/submit/", rems_views.rems_form_submit, name="rems_form_submit"),
    *[
        path(
            f"<uuid:external_id>/{name.replace('_', '-')}/",
            action_views.session_action,
            {"action": name},
            name=name,
        )
        for name in action_views.ACTIONS
    ],
]
