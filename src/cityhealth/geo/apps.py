from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "cityhealth.geo"
    label = "geo"
    verbose_name = "Geography"
