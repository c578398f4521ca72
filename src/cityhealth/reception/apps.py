from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    name = "cityhealth.reception"
    label = "reception"
    verbose_name = "Reception"

    def ready(self) -> None:
        from cityhealth.core import caches
        from cityhealth.reception import directory, waits

        directory.connect()
        caches.register(directory.forget)
        caches.register(waits.forget)
