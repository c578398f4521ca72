"""URL map of the whole platform. Every page and endpoint checks who may use it."""

from django.contrib import admin
from django.urls import include, path

from cityhealth.accounts.oauth import token_endpoint
from cityhealth.api import api, fhir_api
from cityhealth.web import views as web_views

web_patterns = (
    [
        path("", web_views.home, name="home"),
        path("audit/", web_views.audit_log, name="audit_log"),
    ],
    "web",
)

urlpatterns = [
    path("", include(web_patterns)),
    path("healthz", web_views.healthz, name="healthz"),
    path("accounts/", include("cityhealth.accounts.urls")),
    path("facilities/", include("cityhealth.facilities.urls")),
    path("people/", include("cityhealth.people.urls")),
    path("emergency/", include("cityhealth.emergency.urls")),
    path("reception/", include("cityhealth.reception.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("fhir/R4/", fhir_api.urls),
    path("oauth/token", token_endpoint, name="oauth_token"),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = "cityhealth.web.views.error_400"
handler403 = "cityhealth.web.views.error_403"
handler404 = "cityhealth.web.views.error_404"
handler500 = "cityhealth.web.views.error_500"
