from django.urls import path

from . import portfolio_views, views

app_name = "learning_plan"

urlpatterns = [
    path("me/plan/", views.plan, name="plan"),
    path("me/plan/cycles/", views.cycle_add, name="cycle_add"),
    path("me/plan/cycles/<int:pk>/remove/", views.cycle_remove, name="cycle_remove"),
    path("me/plan/cycles/<int:pk>/report.<str:fmt>", views.plan_report, name="plan_report"),
    path("me/plan/programmes/new/", views.programme_add, name="programme_add"),
    path("me/plan/programmes/<int:pk>/remove/", views.programme_remove, name="programme_remove"),
    path("me/plan/add/<str:kind>/<int:pk>/", views.plan_add, name="plan_add"),
    path("me/plan/planned/<int:pk>/remove/", views.plan_remove, name="plan_remove"),
    # The accreditation portfolio: per specialty (by its code), and the writes of one portfolio (by its id)
    path("me/portfolio/", portfolio_views.portfolio_list, name="portfolio_list"),
    path("me/portfolio/<str:code>/", portfolio_views.portfolio_page, name="portfolio"),
    path("me/portfolio/<str:code>/document/", portfolio_views.document_add, name="document_add"),
    path("me/portfolio/<int:pk>/report/<str:section>/", portfolio_views.report_section, name="report_section"),
    path("me/portfolio/<int:pk>/agreement/", portfolio_views.agreement, name="agreement"),
    path("me/portfolio/<int:pk>/document/correct/", portfolio_views.document_correct, name="document_correct"),
    # The accreditation portfolio: filing and its outcome
    path("me/portfolio/<int:pk>/filing/", views.portfolio_file, name="portfolio_file"),
    path("me/portfolio/<int:pk>/outcome/", views.portfolio_outcome, name="portfolio_outcome"),
]

# The portfolio's scans and export.
urlpatterns += [
    path("me/portfolio/<int:pk>/scans/", views.portfolio_scan_add, name="portfolio_scan_add"),
    path("me/portfolio/<int:pk>/scans/<int:scan_pk>/", views.portfolio_scan_file, name="portfolio_scan_file"),
    path(
        "me/portfolio/<int:pk>/scans/<int:scan_pk>/remove/", views.portfolio_scan_remove, name="portfolio_scan_remove"
    ),
    path("me/portfolio/<int:pk>/export/", views.portfolio_export, name="portfolio_export"),
    path("me/portfolio/<int:pk>/export/state/", views.portfolio_export_state, name="portfolio_export_state"),
    path("me/portfolio/<int:pk>/export/<int:export_pk>/", views.portfolio_export_file, name="portfolio_export_file"),
]
