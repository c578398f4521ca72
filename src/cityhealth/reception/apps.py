from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    name = "cityhealth.reception"
    label = "reception"
    verbose_name = "Reception"

    def ready(self) -> None:
        from cityhealth.reception import directory

        directory.connect()
