"""The developer page: a user creates API clients (secrets shown once) and revokes them."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from apps.accounts.models import ApiClient

MAX_CLIENTS_PER_USER = 20


class ClientForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"))


@login_required
def index(request: HttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None)
    secrets = None
    if request.method == "POST" and form.is_valid():
        if ApiClient.objects.filter(owner=request.user).count() >= MAX_CLIENTS_PER_USER:
            form.add_error(
                None, _("At most %(count)d clients per account.") % {"count": MAX_CLIENTS_PER_USER}
            )
        else:
            client, secrets = ApiClient.issue(request.user, form.cleaned_data["name"])
            form = ClientForm()
    clients = ApiClient.objects.filter(owner=request.user)
    return render(
        request, "api/developer.html", {"form": form, "clients": clients, "secrets": secrets},
        status=201 if secrets else 200,
    )


@login_required
@require_POST
def revoke(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(ApiClient, id=client_id, owner=request.user)
    client.delete()  # its jobs stay in history (Job.api_client is SET_NULL)
    return redirect("api:developer")
