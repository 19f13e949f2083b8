from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed

        from surveys.models import Survey
        from surveys.signals import chosen_councils_changed

        m2m_changed.connect(
            chosen_councils_changed,
            sender=Survey.chosen_authorities.through,
            dispatch_uid="surveys.chosen_councils_changed",
        )
