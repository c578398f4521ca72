from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cityhealth.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Connects the sign-in audit receivers.
        from cityhealth.accounts import views  # noqa: F401
