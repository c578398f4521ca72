from django.urls import path

from cityhealth.emergency import crew_views, hospital_views, kpi_views, planning_views, views

app_name = "emergency"

urlpatterns = [
    path("", views.dispatch_room, name="dispatch_room"),
    path("calls/new/", views.new_call, name="new_call"),
    path("events/", views.console_events, name="console_events"),
    path("map/wards.geojson", views.ward_outlines, name="ward_outlines"),
    path("map/roads.geojson", views.road_lines, name="road_lines"),
    path("calls/<int:incident_id>/", views.call_taker, name="call_taker"),
    path("planning/", planning_views.plan_event, name="plan_event"),
    path("kpis/", kpi_views.kpi_page, name="kpis"),
    path("kpis/coverage.json", kpi_views.coverage_json, name="kpis_coverage"),
    path("kpis/wards.geojson", kpi_views.ward_outlines, name="kpis_wards"),
    path("incoming/", hospital_views.incoming, name="incoming"),
    path(
        "incoming/acknowledge/",
        hospital_views.incoming_acknowledge,
        name="incoming_acknowledge",
    ),
    path("incoming/status/", hospital_views.incoming_status, name="incoming_status"),
    path("incoming/arrived/", hospital_views.incoming_arrived, name="incoming_arrived"),
    path("crew/", crew_views.choose_unit, name="crew_units"),
    path("crew/<str:code>/", crew_views.crew_page, name="crew_page"),
    path("crew/<str:code>/route.json", crew_views.crew_route, name="crew_route"),
    path("crew/<str:code>/status/", crew_views.crew_status, name="crew_status"),
    path("crew/<str:code>/vitals/", crew_views.crew_vitals, name="crew_vitals"),
    path("crew/<str:code>/treatment/", crew_views.crew_treatment, name="crew_treatment"),
    path("crew/<str:code>/event/", crew_views.crew_event, name="crew_event"),
    path("crew/<str:code>/pre-alert/", crew_views.crew_pre_alert, name="crew_pre_alert"),
]
