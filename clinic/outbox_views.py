"""The clinic admins' page of the outbox: messages that failed, with a button to try again, and the latest."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from clinic.models import MessageStatus, OutboundMessage
from clinic.outbox import MAX_ATTEMPTS, message_retry

RECENT = 50


@require_GET
@permission_required("clinic.view_outboundmessage", raise_exception=True)
def message_list(request):
    failed = list(OutboundMessage.objects.needing_attention()[:200])
    recent = list(OutboundMessage.objects.exclude(status=MessageStatus.FAILED)[:RECENT])
    return render(
        request,
        "clinic/messages.html",
        {"failed": failed, "recent": recent, "max_attempts": MAX_ATTEMPTS, "recent_count": RECENT},
    )


@require_POST
@permission_required("clinic.change_outboundmessage", raise_exception=True)
def message_retry_view(request, pk):
    message = get_object_or_404(OutboundMessage, pk=pk)
    if message_retry(message=message):
        messages.success(request, f"The message to {message.recipient} will be tried again now.")
    else:
        messages.info(request, f"The message to {message.recipient} is no longer failed; nothing to retry.")
    return redirect("clinic:messages")
