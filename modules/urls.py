from django.urls import path

from . import views

app_name = "modules"

urlpatterns = [
    path("catalog/modules/", views.catalog, name="catalog"),
    path("catalog/modules/<int:pk>/", views.catalog_detail, name="catalog_detail"),
    path("provider/organizations/<int:organization_id>/modules/new/", views.ModuleFormView.as_view(), name="create"),
    path("provider/modules/<int:pk>/", views.ModuleDetailView.as_view(), name="detail"),
    path("provider/modules/<int:pk>/edit/", views.ModuleFormView.as_view(), name="edit"),
    path("provider/modules/<int:pk>/submit/", views.ModuleSubmitView.as_view(), name="submit"),
    path("provider/modules/<int:pk>/withdraw/", views.ModuleWithdrawView.as_view(), name="withdraw"),
    path("provider/modules/<int:pk>/completions/", views.ModuleCompletionsView.as_view(), name="completions"),
]
