from django.urls import path

from cityhealth.people import views

app_name = "people"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:person_id>/", views.detail, name="detail"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/<int:item_id>/resolve/", views.resolve_review, name="resolve_review"),
]
