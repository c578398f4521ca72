from django.urls import path

from cityhealth.facilities import views

app_name = "facilities"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("<str:code>/", views.detail, name="detail"),
]
