from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("s/<str:token>", views.link_landing, name="link"),
    path("survey/", views.task_list, name="tasks"),
    path("survey/transactions/<slug:slug>/", views.transaction_page, name="transaction"),
    path("survey/check/", views.check_answers, name="check"),
    path("survey/check/<slug:section>/", views.section_check, name="section-check"),
    path("survey/saved/", views.saved, name="saved"),
    path("survey/confirmation/", views.confirmation, name="confirmation"),
    path("survey/reopen/", views.reopen, name="reopen"),
    path("survey/keep-alive/", views.keep_alive, name="keep-alive"),
    path("survey/sign-out/", views.sign_out, name="sign-out"),
    path("survey/signed-out/", views.signed_out, name="signed-out"),
    path("survey/session-ended/", views.session_ended, name="session-ended"),
    path("survey/contributors/", views.contributors, name="contributors"),
    path(
        "survey/contributors/<int:contributor_id>/",
        views.contributor_change,
        name="contributor-change",
    ),
    path(
        "survey/contributors/<int:contributor_id>/remove/",
        views.contributor_remove,
        name="contributor-remove",
    ),
    path("survey/spreadsheet/", views.spreadsheet, name="spreadsheet"),
    path("survey/spreadsheet/download/", views.spreadsheet_download, name="spreadsheet-download"),
    path("survey/<slug:section>/<slug:group>/", views.questions_page, name="questions"),
]
