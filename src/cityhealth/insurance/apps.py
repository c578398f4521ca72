from django.apps import AppConfig


class InsuranceConfig(AppConfig):
    name = "cityhealth.insurance"
    label = "insurance"
    verbose_name = "Health insurance"
