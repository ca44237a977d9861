from django.urls import path

from ketaclinic.protocols import views

app_name = "protocols"
urlpatterns = [
    path("", views.protocol_list, name="list"),
    path("load/", views.protocol_upload, name="upload"),
    path("<slug:protocol_id>/v<int:version>/", views.protocol_detail, name="detail"),
]
