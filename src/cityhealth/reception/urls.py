from django.urls import path

from cityhealth.reception import staffing_views, views

app_name = "reception"

urlpatterns = [
    path("kiosk/<str:facility>/", views.kiosk, name="kiosk"),
    path("kiosk/<str:facility>/identify/", views.kiosk_identify, name="kiosk_identify"),
    path("kiosk/<str:facility>/check-in/", views.kiosk_check_in, name="kiosk_check_in"),
    path("kiosk/<str:facility>/ticket/<str:token>/", views.kiosk_ticket, name="kiosk_ticket"),
    path("ticket/<str:token>/", views.ticket, name="ticket"),
    path("board/<str:facility>/<str:area>/", views.board, name="board"),
    path("board/<str:facility>/<str:area>/events/", views.board_events, name="board_events"),
    path("points/<int:point_id>/", views.point, name="point"),
    path("desk/", views.desk, name="desk"),
    path("staffing/", staffing_views.staffing_page, name="staffing"),
    path("statistics/", views.statistics, name="statistics"),
]
