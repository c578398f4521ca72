from django.apps import AppConfig


class SynthConfig(AppConfig):
    name = "cityhealth.synth"
    label = "synth"
    verbose_name = "Synthetic data"
