from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "cityhealth.people"
    label = "people"
    verbose_name = "People"
