from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cityhealth.core"
    label = "core"
    verbose_name = "Core"
