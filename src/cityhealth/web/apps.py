from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cityhealth.web"
    label = "web"
    verbose_name = "Web"
