// The web chat. Replies arrive as HTML rendered (and escaped) by the server; anything this
// script writes itself (what you typed, form errors) goes in with textContent.
(() => {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const transcript = document.getElementById("transcript");
  const composer = document.getElementById("composer");
  const input = document.getElementById("text");
  const send = document.getElementById("send");
  const picker = document.getElementById("person");
  const newPerson = document.getElementById("new-person");
  const newName = document.getElementById("new-person-name");
  const digestButton = document.getElementById("digest");
  const NEW = "\u0000new";
  let me = localStorage.getItem("touchbase.person") || "";
  // A client name on the dashboard links here as /?client=<id>: open that card once someone
  // is chosen, then drop it from the address so a reload does not open it again.
  let openClient = new URLSearchParams(location.search).get("client") || "";
  if (openClient) history.replaceState(null, "", location.pathname);

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (err) {
      return "";
    }
  }

  function requestId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function call(method, path, body) {
    // One id for the request: the server files a command under it and ends the request's
    // log line with it, so the two can be matched.
    const id = requestId();
    const options = { method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf, "X-Request-Id": id } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      // The browser's time zone, so dates and the digest follow the person's own day.
      options.body = JSON.stringify({ ...body, user: me, tz: browserZone(), request_id: id });
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (err) {
      return { error: "Touchbase is not reachable. Is the server still running?" };
    }
    if (response.status === 401) {
      location.href = "/login?next=%2F";
      return null;
    }
    let data;
    try {
      data = await response.json();
    } catch (err) {
      data = {};
    }
    if (!response.ok) return { error: data.error || "Something went wrong (" + response.status + ")." };
    return data;
  }

  function scrollDown() {
    transcript.scrollTop = transcript.scrollHeight;
  }

  function row(kind, label) {
    const div = document.createElement("div");
    div.className = "row " + kind;
    if (label) {
      const tag = document.createElement("div");
      tag.className = "row-label";
      tag.textContent = label;
      div.appendChild(tag);
    }
    transcript.appendChild(div);
    return div;
  }

  function addYou(text) {
    const div = row("you");
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    div.appendChild(bubble);
    scrollDown();
  }

  function addNote(text) {
    const div = row("note");
    div.textContent = text;
    scrollDown();
  }

  function addHtml(html, label) {
    const div = row("bot", label);
    const holder = document.createElement("template");
    holder.innerHTML = html; // server-rendered, every value escaped there
    div.appendChild(holder.content);
    scrollDown();
    return div;
  }

  function addError(text) {
    const div = row("bot");
    const card = document.createElement("article");
    card.className = "card tone-error";
    const body = document.createElement("div");
    body.className = "card-body";
    const p = document.createElement("p");
    p.className = "card-text";
    p.textContent = text;
    body.appendChild(p);
    card.appendChild(body);
    div.appendChild(card);
    scrollDown();
  }

  function show(reply, label) {
    if (!reply) return;
    if (reply.error) return addError(reply.error);
    if (reply.kind === "message") return addHtml(reply.html, label);
    if (reply.kind === "form") {
      const div = addHtml(reply.html, label);
      const first = div.querySelector("input, select, textarea");
      if (first) first.focus();
      return div;
    }
    if (reply.kind === "errors") return addHtml(reply.html, label);
  }

  function setEnabled(on) {
    input.disabled = !on;
    send.disabled = !on;
  }

  async function loadPeople() {
    const data = await call("GET", "/api/chat/people");
    const people = (data && data.people) || [];
    if (me && !people.includes(me)) people.push(me);
    people.sort((a, b) => a.localeCompare(b));
    picker.textContent = "";
    for (const name of people) {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      picker.appendChild(option);
    }
    const other = document.createElement("option");
    other.value = NEW;
    other.textContent = "Someone new…";
    picker.appendChild(other);
    digestButton.hidden = !(data && data.digest) || !me; // nobody chosen yet: nobody's digest
    return people;
  }

  async function becomes(name) {
    me = name;
    localStorage.setItem("touchbase.person", name);
    newPerson.hidden = true;
    setEnabled(true);
    await loadPeople();
    picker.value = name;
    addNote("You are now " + name + ".");
    const inbox = await call("POST", "/api/chat/inbox", {});
    for (const item of (inbox && inbox.items) || []) addHtml(item.html, item.label + " for " + name);
    const digest = await call("POST", "/api/chat/digest", {});
    if (digest && digest.kind && digest.kind !== "none") show(digest, "Your morning digest");
    if (openClient) {
      const value = openClient;
      openClient = "";
      show(await call("POST", "/api/chat/action", { action_id: "client_open", value }));
    }
    input.focus();
  }

  picker.addEventListener("change", () => {
    if (picker.value === NEW) {
      newPerson.hidden = false;
      newName.value = "";
      newName.focus();
      setEnabled(false);
    } else {
      becomes(picker.value);
    }
  });

  newPerson.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = newName.value.trim().replace(/\s+/g, " ");
    if (name) becomes(name);
  });

  composer.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text || !me) return;
    input.value = "";
    addYou(text);
    show(await call("POST", "/api/chat/command", { text }));
  });

  digestButton.addEventListener("click", async () => {
    if (!me) return;
    addYou("/due");
    show(await call("POST", "/api/chat/digest", { force: true }), "Your morning digest");
  });

  document.getElementById("chips").addEventListener("click", (ev) => {
    const chip = ev.target.closest("[data-fill]");
    if (!chip || input.disabled) return;
    input.value = chip.dataset.fill;
    input.focus();
  });

  transcript.addEventListener("click", async (ev) => {
    const cancel = ev.target.closest("[data-cancel]");
    if (cancel) {
      const form = cancel.closest("form");
      form.classList.add("closed");
      form.querySelectorAll("input, select, textarea, button").forEach((el) => (el.disabled = true));
      return;
    }
    const button = ev.target.closest("button[data-action-id]");
    if (!button || !me) return;
    button.disabled = true;
    const reply = await call("POST", "/api/chat/action", {
      action_id: button.dataset.actionId,
      value: button.dataset.value,
    });
    button.disabled = false;
    show(reply);
  });

  transcript.addEventListener("submit", async (ev) => {
    const form = ev.target.closest("form[data-form-id]");
    if (!form) return;
    ev.preventDefault();
    const values = {};
    for (const el of form.querySelectorAll("[name]")) {
      values[el.name] = el.type === "checkbox" ? (el.checked ? "yes" : "") : el.value;
    }
    form.querySelectorAll(".field-error, .form-error").forEach((p) => {
      p.hidden = true;
      p.textContent = "";
    });
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    const reply = await call("POST", "/api/chat/submit", {
      form_id: form.dataset.formId,
      values,
      private_value: form.dataset.privateValue || "",
    });
    if (reply && reply.kind === "errors") {
      for (const [name, problem] of Object.entries(reply.errors)) {
        const spot =
          form.querySelector('[data-error-for="' + CSS.escape(name) + '"]') ||
          form.querySelector('[data-error-for=""]');
        spot.textContent = problem;
        spot.hidden = false;
        const field = form.querySelector('[name="' + CSS.escape(name) + '"]');
        if (field) {
          field.setAttribute("aria-invalid", "true");
          field.focus();
        }
      }
      return;
    }
    if (reply && !reply.error) {
      form.classList.add("closed");
      form.querySelectorAll("input, select, textarea, button").forEach((el) => (el.disabled = true));
    }
    show(reply);
  });

  (async () => {
    const people = await loadPeople();
    if (me) {
      await becomes(me);
    } else {
      picker.value = NEW;
      newPerson.hidden = false;
      newName.focus();
      addNote(
        people.length
          ? "Choose who you are at the top, or add someone new."
          : "Welcome to Touchbase. Enter your name at the top to start."
      );
    }
  })();
})();
