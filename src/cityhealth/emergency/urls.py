from django.urls import path

from cityhealth.emergency import views

app_name = "emergency"

urlpatterns = [
    path("", views.dispatch_room, name="dispatch_room"),
    path("calls/new/", views.new_call, name="new_call"),
    path("calls/<int:incident_id>/", views.call_taker, name="call_taker"),
]
