from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/work/add/", views.work_record_add, name="work_record_add"),
    path("profile/work/<int:pk>/", views.work_record_edit, name="work_record_edit"),
    path("profile/work/<int:pk>/remove/", views.work_record_remove, name="work_record_remove"),
    path("organizations/", views.organization_list, name="organizations"),
    path("organizations/register/", views.organization_register, name="organization_register"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/invitations/", views.invitation_create, name="invitation_create"),
    path(
        "organizations/<int:pk>/invitations/<int:invitation_pk>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "organizations/<int:pk>/members/<int:membership_pk>/remove/",
        views.membership_remove,
        name="membership_remove",
    ),
    path("organizations/<int:pk>/api-keys/", views.api_key_create, name="api_key_create"),
    path("organizations/<int:pk>/api-keys/<int:key_pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
