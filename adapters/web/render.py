"""The neutral Message and Form as HTML: the web chat's renderer, sibling of the console's.

Every string from the core is plain text; it is escaped here, and only here, with `html.escape`
(quotes included, so it is safe in attributes too). The browser script inserts this HTML as it
comes and writes anything else (what you typed, inline form errors) with `textContent`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from html import escape
from pathlib import Path
from string import Template

from bot.messages import Action, Form, FormInput, InputKind, Message, Section, Tone

TEMPLATES = Path(__file__).parent / "templates"
_ICONS = {Tone.SUCCESS: "✓", Tone.WARNING: "!", Tone.ERROR: "✕", Tone.INFO: "i"}


def e(text: object) -> str:
    return escape(str(text), quote=True)


def _lines(text: str) -> str:
    return "<br>".join(e(line) for line in text.splitlines())


def _linked_list(text: str, links: Iterable[Action]) -> str:
    """The text's lines as a list, one item a line: a line that starts "<label>:" gets that
    label as a link-like button (the chat runs it like any other button) and the rest of the
    line beneath it, smaller; any other line is an item as it is."""
    longest_first = sorted(links, key=lambda link: -len(link.label))
    items = []
    for line in text.splitlines():
        link = next((k for k in longest_first if line.startswith(k.label + ":")), None)
        if link is None:
            items.append(f'<li class="more">{e(line)}</li>')
            continue
        detail = line[len(link.label) + 1 :].strip()
        items.append(
            f'<li><button type="button" class="client-link" data-action-id="{e(link.action_id)}" '
            f'data-value="{e(link.value)}">{e(link.label)}</button>'
            f'<span class="sr-only">: </span><span class="detail">{e(detail)}</span></li>'
        )
    return f'<ul class="linked-list">{"".join(items)}</ul>'


def _button(action: Action) -> str:
    return (
        f'<button type="button" class="btn btn-{e(action.style.value)}" '
        f'data-action-id="{e(action.action_id)}" data-value="{e(action.value)}">'
        f"{e(action.label)}</button>"
    )


def _actions(actions: Iterable[Action]) -> str:
    buttons = "".join(_button(a) for a in actions)
    return f'<div class="actions">{buttons}</div>' if buttons else ""


def _section(section: Section) -> str:
    parts = ['<section class="card-section">']
    if section.heading:
        parts.append(f'<h4 class="section-heading">{e(section.heading)}</h4>')
    if section.text and section.links:
        parts.append(_linked_list(section.text, section.links))
    elif section.text:
        parts.append(f'<p class="section-text">{_lines(section.text)}</p>')
    if section.checklist:
        ticks = "".join(
            f'<li class="{"done" if i.done else "todo"}">'
            f'<span class="box" aria-hidden="true">{"✓" if i.done else ""}</span>'
            f'<span class="sr-only">{"Done: " if i.done else "To do: "}</span>{e(i.text)}</li>'
            for i in section.checklist
        )
        parts.append(f'<ul class="checklist">{ticks}</ul>')
    if section.fields:
        items = "".join(
            f'<div class="field"><dt>{e(f.label)}</dt><dd>{_lines(f.value)}</dd></div>'
            for f in section.fields
        )
        parts.append(f'<dl class="fields">{items}</dl>')
    parts.append(_actions(section.actions))
    if section.context:
        parts.append(f'<p class="context">{_lines(section.context)}</p>')
    parts.append("</section>")
    return "".join(parts)


def render_message(message: Message) -> str:
    tone = e(message.tone.value)
    head = ""
    if message.title:
        head = f'<h3 class="card-title">{e(message.title)}</h3>'
    body = "".join(_section(s) for s in message.sections)
    return (
        f'<article class="card tone-{tone}">'
        f'<span class="tone-icon" aria-hidden="true">{e(_ICONS[message.tone])}</span>'
        f'<div class="card-body">{head}<p class="card-text">{_lines(message.text)}</p>'
        f"{body}{_actions(message.actions)}</div></article>"
    )


def _input(item: FormInput, form_id: str, client_names: Iterable[str]) -> str:
    ident = f"f-{form_id}-{item.name}"
    name = e(item.name)
    initial = item.initial or ""
    required = " required" if item.required else ""
    placeholder = f' placeholder="{e(item.placeholder)}"' if item.placeholder else ""
    common = f'id="{e(ident)}" name="{name}"{required}{placeholder}'
    star = ' <span class="req" aria-hidden="true">*</span>' if item.required else ""
    label = f'<label for="{e(ident)}">{e(item.label)}{star}</label>'
    if item.kind is InputKind.MULTILINE:
        control = f'<textarea {common} rows="3">{e(initial)}</textarea>'
    elif item.kind is InputKind.SELECT:
        options = "".join(
            f'<option value="{e(o.value)}"{" selected" if o.value == initial else ""}>'
            f"{e(o.label)}</option>"
            for o in item.options
        )
        control = f"<select {common}>{options}</select>"
    elif item.kind is InputKind.CHECKBOX:
        checked = " checked" if initial.lower() in ("1", "true", "yes", "on") else ""
        return (
            f'<div class="form-row form-check" data-input="{name}">'
            f'<label for="{e(ident)}"><input type="checkbox" id="{e(ident)}" name="{name}" '
            f'value="yes"{checked}> {e(item.label)}</label>'
            f'<p class="field-error" data-error-for="{name}" hidden></p></div>'
        )
    elif item.kind is InputKind.DATE:
        control = f'<input type="date" {common} value="{e(initial)}">'
    elif item.kind is InputKind.CLIENT:
        listid = e(f"{ident}-list")
        options = "".join(f'<option value="{e(n)}"></option>' for n in client_names)
        control = (
            f'<input type="text" {common} value="{e(initial)}" list="{listid}" '
            f'autocomplete="off"><datalist id="{listid}">{options}</datalist>'
        )
    else:
        control = f'<input type="text" {common} value="{e(initial)}">'
    return (
        f'<div class="form-row" data-input="{name}">{label}{control}'
        f'<p class="field-error" data-error-for="{name}" hidden></p></div>'
    )


def render_form(form: Form, *, client_names: Iterable[str] = ()) -> str:
    names = list(client_names)
    inputs = "".join(_input(item, form.form_id, names) for item in form.inputs)
    return (
        f'<form class="card card-form tone-info" data-form-id="{e(form.form_id)}" '
        f'data-private-value="{e(form.private_value)}" novalidate>'
        f'<span class="tone-icon" aria-hidden="true">+</span><div class="card-body">'
        f'<h3 class="card-title">{e(form.title)}</h3>{inputs}'
        f'<p class="form-error" data-error-for="" hidden></p>'
        f'<div class="actions"><button type="submit" class="btn btn-primary">'
        f"{e(form.submit_label)}</button>"
        f'<button type="button" class="btn btn-default" data-cancel>Cancel</button></div>'
        f"</div></form>"
    )


def render_errors(errors: Mapping[str, str]) -> str:
    """FormErrors as a plain list, for when the form is no longer on the page."""
    items = "".join(f"<li>{e(problem)}</li>" for problem in errors.values())
    return (
        f'<article class="card tone-error"><div class="card-body"><ul>{items}</ul></div></article>'
    )


def page(template: str, *, raw: Mapping[str, str] | None = None, **values: str) -> str:
    """Fill a page template. Every value is escaped, but for `raw`: HTML built by this module."""
    filled = {k: e(v) for k, v in values.items()}
    filled.update(raw or {})
    return Template(template).substitute(filled)


@cache
def template(name: str) -> str:
    """A page template from templates/, read once."""
    return (TEMPLATES / name).read_text(encoding="utf-8")
