from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    name = "cityhealth.reception"
    label = "reception"
    verbose_name = "Reception"
