"""Universal Actions for the cards the Agents SDK adapter sends (Adaptive Card 1.5).

The renderer (:mod:`adapters.teams.cards`) makes ``Action.Submit`` buttons. Here each becomes
an ``Action.Execute`` with the same title, style and data, keeping the ``Action.Submit`` as its
``fallback``: a Teams client that knows Universal Actions sends an ``adaptiveCard/action``
invoke and gets the updated card back in the answer, in place; an older client falls back to
the submit, which arrives as a message with a ``value``. Both carry the same data, so both
lead to the same core call.

A card sent to one person also carries a ``refresh`` (``Action.Execute`` with the verb
:data:`REFRESH`, ``userIds`` that person's Teams id): only they make Teams ask for an update,
whatever the size of the chat. The bot answers that invoke without changing the card
(:func:`adapters.teams.turn.TeamsTurns.invoke`): a card shows what it showed the person it was
sent to, and nobody else is ever shown anything of theirs.

Pure functions over plain dicts; the original card is never changed.
"""

from __future__ import annotations

import copy
from typing import Any

from adapters.teams.cards import Card

VERB = "touchbase"  # every button's verb: what it does is in its data, as with Action.Submit
REFRESH = "touchbase.refresh"  # the verb of a card's refresh action


def _execute(submit: Card) -> Card:
    execute: Card = {
        "type": "Action.Execute",
        "verb": VERB,
        "title": submit.get("title", ""),
        "data": copy.deepcopy(submit.get("data", {})),
        "fallback": copy.deepcopy(submit),
    }
    if "style" in submit:
        execute["style"] = submit["style"]
    return execute


def _convert(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("type") == "Action.Submit":
            return _execute(node)
        return {key: _convert(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_convert(value) for value in node]
    return node


def universal(card: Card, user_id: str | None = None) -> Card:
    """The card with every ``Action.Submit`` as an ``Action.Execute`` that falls back to it;
    with ``user_id`` (a ``29:`` id), refreshed for that person alone."""
    converted: Card = _convert(card)
    if user_id:
        converted["refresh"] = {
            "action": {"type": "Action.Execute", "verb": REFRESH, "data": {}},
            "userIds": [user_id],
        }
    return converted


def execute_response(card: Card) -> dict[str, Any]:
    """The body answering an ``adaptiveCard/action`` invoke: the card to show in place."""
    return {
        "statusCode": 200,
        "type": "application/vnd.microsoft.card.adaptive",
        "value": card,
    }


def message_response(text: str) -> dict[str, Any]:
    """The body answering an invoke with a short message Teams shows over the card."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


def error_response(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": code, "message": message},
    }
