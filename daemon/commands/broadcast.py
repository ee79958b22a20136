"""Admin /broadcast TEXT: to every subscriber, after a confirmation button.

The confirmation shows the recipient count; pressing it queues one message per
subscriber in the same transaction, at bulk priority: the sender paces them within
Telegram's limits, and replies and alerts overtake them.
A broadcast is sent at most once, however often its button is pressed.
"""

from __future__ import annotations

from daemon.commands.registry import (
    ButtonAction,
    ButtonCall,
    ButtonResult,
    Command,
    CommandCall,
    CommandError,
    Registry,
    Role,
    Services,
)
from daemon.numbers import ascii_int
from daemon.reply import Button, Reply
from daemon.store import broadcasts, outbox, subscribers
from daemon.store.broadcasts import BroadcastRecord
from daemon.store.outbox import Priority, Receiver

MAX_TEXT = 3500  # leaves room within Telegram's 4096 after escaping


async def broadcast(call: CommandCall, services: Services) -> Reply:
    text = " ".join(call.args).strip()
    if not text:
        raise CommandError("Usage: /broadcast TEXT")
    if len(text) > MAX_TEXT:
        raise CommandError(f"A broadcast is at most {MAX_TEXT} characters, got {len(text)}.")
    recipients = subscribers.count()
    if recipients == 0:
        raise CommandError("No chat is subscribed: nothing to send.")
    broadcast_id = broadcasts.create(text, call.user_id, call.now, recipients)
    return Reply(
        title=f"Broadcast #{broadcast_id} to {recipients} subscribers?",
        lines=(text,),
        buttons=(
            Button(f"Send to {recipients}", "bcast.send", str(broadcast_id)),
            Button("Cancel", "bcast.cancel", str(broadcast_id)),
        ),
    )


def _pending(call: ButtonCall) -> BroadcastRecord:
    broadcast_id = ascii_int(call.arg, 1, 2**63 - 1)
    found = broadcasts.get(broadcast_id) if broadcast_id is not None else None
    if found is None:
        raise CommandError("No such broadcast.")
    if found.state != "pending":
        raise CommandError(f"Broadcast #{found.id} was {found.state} already.")
    return found


async def send(call: ButtonCall, services: Services) -> ButtonResult:
    pending = _pending(call)
    chats = subscribers.all_chats()
    for chat_id in chats:
        outbox.enqueue(
            Receiver.chat(chat_id),
            pending.text,
            call.now,
            priority=Priority.BULK,
            parse_mode=None,
            # A second press cannot queue it twice (the state check stops it first; this
            # holds even for a broadcast settled by an older version).
            dedup_key=f"broadcast:{pending.id}:{chat_id}",
        )
    broadcasts.settle(pending.id, "sent", len(chats))
    summary = f"Broadcast #{pending.id} sent to {len(chats)} subscribers."
    return ButtonResult(f"Sending to {len(chats)}", Reply(title=summary, lines=(pending.text,)))


async def cancel(call: ButtonCall, services: Services) -> ButtonResult:
    pending = _pending(call)
    broadcasts.settle(pending.id, "cancelled", 0)
    return ButtonResult("Cancelled", Reply(title=f"Broadcast #{pending.id} cancelled."))


def register(registry: Registry) -> None:
    registry.add(
        Command(
            "broadcast",
            Role.ADMIN,
            "TEXT",
            "message every subscriber (asks first)",
            broadcast,
            "ops",
            self_check=lambda settings: subscribers.count(),
        )
    )
    registry.add_button(ButtonAction("bcast.send", Role.ADMIN, send))
    registry.add_button(ButtonAction("bcast.cancel", Role.ADMIN, cancel))
