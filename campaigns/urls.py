from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/", views.tracker, name="tracker"),
    path("<slug:slug>/outstanding.<str:fmt>", views.tracker_export, name="tracker-export"),
    path("<slug:slug>/send/", views.tracker_action, name="tracker-action"),
    path("<slug:slug>/preview/", views.preview, name="email-preview"),
    path("<slug:slug>/councils/<str:gss_code>/extend/", views.extension, name="extension"),
]
