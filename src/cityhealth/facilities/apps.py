from django.apps import AppConfig


class FacilitiesConfig(AppConfig):
    name = "cityhealth.facilities"
    label = "facilities"
    verbose_name = "Facilities"
