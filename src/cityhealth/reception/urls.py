from django.urls import path

from cityhealth.reception import desk_views, staffing_views, views

app_name = "reception"

urlpatterns = [
    path("kiosk/<str:facility>/", views.kiosk, name="kiosk"),
    path("kiosk/<str:facility>/identify/", views.kiosk_identify, name="kiosk_identify"),
    path("kiosk/<str:facility>/check-in/", views.kiosk_check_in, name="kiosk_check_in"),
    path("kiosk/<str:facility>/ticket/<str:token>/", views.kiosk_ticket, name="kiosk_ticket"),
    path("ticket/<str:token>/", views.ticket, name="ticket"),
    path("ticket/<str:token>/pdf/", views.ticket_pdf, name="ticket_pdf"),
    path("board/<str:facility>/<str:area>/", views.board, name="board"),
    path("board/<str:facility>/<str:area>/events/", views.board_events, name="board_events"),
    path("points/<int:point_id>/", views.point, name="point"),
    path("desk/", desk_views.desk, name="desk"),
    path("desk/child/", desk_views.desk_child, name="desk_child"),
    path("desk/foreigner/", desk_views.desk_foreigner, name="desk_foreigner"),
    path("desk/unknown/", desk_views.desk_unknown, name="desk_unknown"),
    path("desk/visits/<int:visit_id>/", desk_views.desk_visit, name="desk_visit"),
    path("staffing/", staffing_views.staffing_page, name="staffing"),
    path("statistics/", views.statistics, name="statistics"),
]
