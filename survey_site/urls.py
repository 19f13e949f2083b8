from django.contrib import admin
from django.urls import include, path

from campaigns.views import healthz_email
from survey_site import views

admin.site.site_header = "Council digital channels survey: administration"
admin.site.site_title = "Survey administration"
admin.site.index_title = "Administration"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/email", healthz_email, name="healthz-email"),
    path("privacy/", views.privacy, name="privacy"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("cookies/", views.cookies, name="cookies"),
    path("sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("sign-out/", views.SignOutView.as_view(), name="sign-out"),
    path("signed-in/", views.signed_in, name="signed-in"),
    path("admin/", admin.site.urls),
    path("campaigns/", include("campaigns.urls")),
    path("reporting/", include("reporting.urls")),
    path("responses/", include("stewards.urls")),
    path("statistics/", include("publishing.urls")),
    # Before the journey's own patterns: a council's comparison (publishing, above surveys).
    path("", include("publishing.comparison_urls")),
    path("", include("surveys.urls")),
]

handler403 = "survey_site.views.permission_denied"
handler404 = "survey_site.views.page_not_found"
