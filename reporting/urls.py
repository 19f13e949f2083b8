from django.urls import path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("", views.release_index, name="release-index"),
    path("<slug:slug>/", views.release_overview, name="release-overview"),
    path("<slug:slug>/channels/", views.channel_mix, name="release-channels"),
    path("<slug:slug>/take-up/", views.take_up, name="release-take-up"),
    path("<slug:slug>/costs/", views.costs, name="release-costs"),
    path("<slug:slug>/answers/", views.answers, name="release-answers"),
    path("<slug:slug>/suppression/", views.suppression, name="release-suppression"),
    path(
        "<slug:slug>/download.<str:fmt>",
        views.download,
        name="release-download",
    ),
]
