from django.apps import AppConfig
from django.db.models.signals import pre_save


class FhirConfig(AppConfig):
    name = "cityhealth.fhir"
    label = "fhir"
    verbose_name = "FHIR API"

    def ready(self) -> None:
        from cityhealth.fhir import subscriptions
        from cityhealth.records.models import Resource
        from cityhealth.records.services import on_rows_written

        # A Subscription is checked (and activated) as it is saved; subscriptions hear of
        # every written resource, one by one or in bulk (matched after commit).
        pre_save.connect(subscriptions.on_saving, sender=Resource, dispatch_uid="fhir.sub.check")
        on_rows_written(subscriptions.rows_written)
