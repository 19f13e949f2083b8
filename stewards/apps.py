from django.apps import AppConfig


class StewardsConfig(AppConfig):
    name = "stewards"
    verbose_name = "Data stewards"
