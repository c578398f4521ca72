from django.apps import AppConfig
from django.db.models.signals import post_save, pre_save


class FhirConfig(AppConfig):
    name = "cityhealth.fhir"
    label = "fhir"
    verbose_name = "FHIR API"

    def ready(self) -> None:
        # Subscriptions hear of every saved resource (checked as written, matched after commit).
        from cityhealth.fhir import subscriptions
        from cityhealth.records.models import Resource

        pre_save.connect(subscriptions.on_saving, sender=Resource, dispatch_uid="fhir.sub.check")
        post_save.connect(subscriptions.on_saved, sender=Resource, dispatch_uid="fhir.sub.notice")
