from django.apps import AppConfig


class EmergencyConfig(AppConfig):
    name = "cityhealth.emergency"
    label = "emergency"
    verbose_name = "115 emergency dispatch"
