from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "cityhealth.fhir"
    label = "fhir"
    verbose_name = "FHIR API"
