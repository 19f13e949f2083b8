from django.db import models


class ReportingAccess(models.Model):
    """Holds the reporting permissions; releases themselves arrive with the release builder."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_dashboards", "Can view protected dashboards and download releases"),
            ("view_suppression_internals", "Can see primary versus secondary suppression"),
        ]

    def __str__(self) -> str:
        return "Reporting access"
