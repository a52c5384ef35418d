"""The second-factor pages, under /accounts/two-factor/."""

from django.urls import path

from crm_site.security import views

urlpatterns = [
    path("", views.TwoFactorVerifyView.as_view(), name="two-factor-verify"),
    path("setup/", views.TwoFactorSetupView.as_view(), name="two-factor-setup"),
    path("recovery-codes/", views.RecoveryCodesView.as_view(), name="two-factor-recovery-codes"),
]
