from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "publishing"
    verbose_name = "Public releases"

    def ready(self) -> None:
        # A council's link opens its comparison once the round has closed and its public
        # release is out (surveys.after_close; the survey imports nothing from here).
        from publishing.comparison import after_close
        from surveys import after_close as hooks

        hooks.register(after_close)
