from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SurveySiteConfig(AppConfig):
    name = "survey_site"
    verbose_name = "Site"

    def ready(self) -> None:
        from survey_site import (
            checks,  # noqa: F401  (registers the system checks)
            middleware,  # noqa: F401  (notes when staff sign in)
        )
        from survey_site.roles import ensure_roles_after_migrate

        post_migrate.connect(ensure_roles_after_migrate, dispatch_uid="survey_site.roles")
