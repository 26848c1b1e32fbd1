from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("catalog/events/", views.catalog, name="catalog"),
    path("catalog/events/<int:pk>/", views.catalog_detail, name="catalog_detail"),
    path("provider/organizations/<int:organization_id>/events/new/", views.EventFormView.as_view(), name="create"),
    path("provider/events/<int:pk>/", views.EventDetailView.as_view(), name="detail"),
    path("provider/events/<int:pk>/edit/", views.EventFormView.as_view(), name="edit"),
    path("provider/events/<int:pk>/submit/", views.EventSubmitView.as_view(), name="submit"),
    path("provider/events/<int:pk>/withdraw/", views.EventWithdrawView.as_view(), name="withdraw"),
]
