from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "cityhealth.records"
    label = "records"
    verbose_name = "Shared health record"
