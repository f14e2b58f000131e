"""Two-factor sign-in pages: enrolment, the code page after the password, recovery codes, and resets."""

from axes.helpers import get_lockout_response
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from clinic import two_factor
from clinic.forms import EnrolmentForm, SecondFactorForm
from clinic.models import User
from clinic.network import client_ip
from clinic.next_url import safe_next


def _next(request):
    return safe_next(request, default=reverse("home"))


def _locked_out(request):
    """The lockout page, signed out: a locked user starts again with the password once the lock ends."""
    credentials = {"username": request.user.get_username()}
    logout(request)
    return get_lockout_response(request, credentials=credentials)


@require_GET
def overview(request):
    """A member of staff's own two-factor page: whether they enrolled, recovery codes left."""
    user = request.user
    return render(
        request,
        "registration/two_factor.html",
        {
            "device": two_factor.app_device(user),
            "required": two_factor.is_required(user),
            "codes_left": two_factor.recovery_codes_left(user),
        },
    )


@require_http_methods(["GET", "POST"])
@two_factor.second_factor_not_required
def enrol(request):
    user = request.user
    if two_factor.is_enrolled(user) and not user.is_verified():
        # Replacing an app needs the current one (or a recovery code) first, or a clinic admin's reset.
        return redirect(f"{reverse('two-factor-verify')}?next={reverse('two-factor-enrol')}")
    key = two_factor.enrolment_key(request)
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        enrolled = two_factor.enrolment_confirm(user=user, key=key, code=form.cleaned_data["code"])
        if enrolled is None:
            form.add_error(
                "code", "That code does not match. Check the app shows this account and try the newest code."
            )
        else:
            device, codes = enrolled
            request.session.pop(two_factor.ENROLMENT_KEY, None)
            otp_login(request, device)
            two_factor.sign_in_complete(request, user)
            return render(
                request,
                "registration/two_factor_codes.html",
                {"codes": codes, "next": _next(request), "enrolled": True},
            )
    context = {"form": form, "next": _next(request), "required": two_factor.is_required(user)}
    return render(
        request, "registration/two_factor_enrol.html", {**context, **two_factor.enrolment_details(user, key)}
    )


@require_http_methods(["GET", "POST"])
@two_factor.second_factor_not_required
def verify(request):
    user = request.user
    if user.is_verified():
        return redirect(_next(request))
    if not two_factor.is_enrolled(user):
        return redirect(f"{reverse('two-factor-enrol')}?next={_next(request)}")
    if two_factor.is_locked_out(request):
        return _locked_out(request)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST":
        # An empty or over-long code is a failed attempt too.
        device = two_factor.verify(request, form.cleaned_data["code"] if form.is_valid() else "")
        if device is not None:
            if device.name == two_factor.RECOVERY_DEVICE:
                left = two_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. Each works once: make new ones on "
                    "your two-factor page when you run low.",
                )
            return redirect(_next(request))
        if getattr(request, "axes_locked_out", False) or two_factor.is_locked_out(request):
            return _locked_out(request)
        if form.is_valid():
            form.add_error(
                "code", "That code is not right. Type the newest code the app shows, or a recovery code."
            )
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)})


@require_POST
def recovery_codes_new(request):
    user = request.user
    if not two_factor.is_enrolled(user):
        messages.error(request, "Enrol an authenticator app first: recovery codes stand in for it.")
        return redirect("two-factor")
    codes = two_factor.recovery_codes_issue(user=user)
    return render(
        request, "registration/two_factor_codes.html", {"codes": codes, "next": reverse("two-factor")}
    )


@require_GET
@permission_required("clinic.change_user", raise_exception=True)
def staff(request):
    """Clinic admins: who has enrolled, and a reset for a member of staff who lost their phone."""
    enrolled = set(two_factor.TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    rows = [
        {"user": user, "enrolled": user.pk in enrolled}
        for user in User.objects.filter(is_active=True).prefetch_related("groups")
    ]
    return render(request, "clinic/staff_two_factor.html", {"rows": rows})


@require_POST
@permission_required("clinic.change_user", raise_exception=True)
def staff_reset(request, pk):
    member = get_object_or_404(User, pk=pk)
    if two_factor.devices_reset(user=member, reset_by=request.user, remote_addr=client_ip(request)):
        messages.success(
            request,
            f"{member}'s authenticator app and recovery codes are removed. "
            + (
                "They enrol a new app at their next sign-in."
                if two_factor.is_required(member)
                else "They sign in with their password alone until they enrol again."
            ),
        )
    else:
        messages.info(request, f"{member} had no authenticator app enrolled.")
    return redirect("clinic:staff-two-factor")
