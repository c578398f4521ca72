from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "cityhealth.records"
    label = "records"
    verbose_name = "Shared health record"

    def ready(self) -> None:
        from cityhealth.people.services import on_persons_changed
        from cityhealth.records import consent  # Consent → rules, as saved
        from cityhealth.records.patients import project_changed_persons

        # Every person the registry changes is projected as a Patient, in its transaction.
        on_persons_changed(project_changed_persons)
        # A merge binds the survivor's consent to the records of the merged (and back).
        on_persons_changed(consent.refresh_family_rules)
