from django.conf import settings
from django.http import HttpRequest


def service(request: HttpRequest) -> dict[str, str]:
    """Names every page needs: the service and who to contact (also for feedback)."""
    return {
        "service_name": settings.SERVICE_NAME,
        "survey_team_email": settings.SURVEY_TEAM_EMAIL,
    }
