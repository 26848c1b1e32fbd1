from django.urls import path

from . import commission_views, doctor_views, public_views, statistics_views

app_name = "statuses"

# What a doctor meets: the programmes, applying, their applications and statuses (doctor_views).
urlpatterns = [
    path("status-programmes/", doctor_views.programme_list, name="programmes"),
    path("status-programmes/<slug:slug>/", doctor_views.programme_detail, name="programme"),
    path("status-programmes/<slug:slug>/apply/", doctor_views.apply, name="apply"),
    path("me/statuses/", doctor_views.mine, name="mine"),
    path("me/statuses/applications/<int:pk>/", doctor_views.application_detail, name="application"),
    path("me/statuses/applications/<int:pk>/withdraw/", doctor_views.withdraw, name="withdraw"),
    path("me/statuses/<int:pk>/consent/", doctor_views.consent, name="consent"),
]

# The commission's queue and its work on one application (commission_views).
urlpatterns += [
    path("commission/", commission_views.queue, name="commission_queue"),
    path("commission/applications/<int:pk>/", commission_views.application, name="commission_application"),
    path(
        "commission/applications/<int:pk>/stages/<int:stage_id>/schedule/",
        commission_views.stage_schedule,
        name="stage_schedule",
    ),
    path(
        "commission/applications/<int:pk>/stages/<int:stage_id>/result/",
        commission_views.stage_result,
        name="stage_result",
    ),
    path("commission/applications/<int:pk>/decision/", commission_views.decide, name="decide"),
]

# Public: the check page a certificate's QR code opens, the register of holders; the holder's certificate.
urlpatterns += [
    path("statuses/check/<str:token>/", public_views.check, name="check"),
    path("statuses/register/", public_views.register, name="register"),
    path("me/statuses/<int:pk>/certificate.pdf", public_views.certificate, name="certificate"),
]

# A programme's statistics, for administrators and its commission (statistics_views).
urlpatterns += [
    path("status-programmes/<slug:slug>/statistics/", statistics_views.statistics, name="statistics"),
    path("status-programmes/<slug:slug>/statistics.csv", statistics_views.statistics_csv, name="statistics_csv"),
]
