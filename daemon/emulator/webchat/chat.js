// The web chat: plays the sandbox's users against the emulator's control API.
// Hand-written, no dependencies; everything it loads comes from the emulator itself.
"use strict";

const state = {
  bot: null,          // {id, username, first_name}
  users: [],          // [{id, first_name, username}]
  groups: [],         // [{id, title}]
  messages: new Map(),  // "chat:message_id" -> Bot API message (+ deleted)
  order: [],          // keys in arrival order
  pressed: new Set(), // callback query ids pressed from this page
  answers: new Map(), // callback answers that came before the press's own response
};

const $ = (id) => document.getElementById(id);
const control = (path) => `/_emulator/bots/${state.bot.id}${path}`;

async function api(path, options = {}) {
  const init = { method: options.method || "GET", headers: {} };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  const answer = await response.json();
  if (!answer.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer.result;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

function currentUser() { return Number($("user-select").value); }
function currentChat() {
  const where = $("chat-select").value;
  return where === "private" ? currentUser() : Number(where);
}

// -- rendering ---------------------------------------------------------------------------
const ENTITY_TAGS = { bold: "b", italic: "i", underline: "u", strikethrough: "s",
                      code: "code", pre: "pre", spoiler: "span", blockquote: "blockquote" };

function formatted(text, entities) {
  // Entity offsets count UTF-16 code units, as JavaScript strings do.
  const fragment = document.createDocumentFragment();
  const cuts = new Set([0, text.length]);
  for (const e of entities || []) { cuts.add(e.offset); cuts.add(e.offset + e.length); }
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const [from, to] = [points[i], points[i + 1]];
    let node = document.createTextNode(text.slice(from, to));
    for (const e of entities || []) {
      if (e.offset <= from && to <= e.offset + e.length) {
        let wrapper;
        if (e.type === "text_link" || e.type === "url") {
          wrapper = document.createElement("a");
          wrapper.href = e.url || text.slice(e.offset, e.offset + e.length);
          wrapper.target = "_blank";
          wrapper.rel = "noopener";
        } else if (ENTITY_TAGS[e.type]) {
          wrapper = document.createElement(ENTITY_TAGS[e.type]);
        } else {
          continue;
        }
        wrapper.appendChild(node);
        node = wrapper;
      }
    }
    fragment.appendChild(node);
  }
  return fragment;
}

function keyboard(message) {
  const rows = (message.reply_markup || {}).inline_keyboard;
  if (!rows) return null;
  const box = document.createElement("div");
  box.className = "keyboard";
  for (const row of rows) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      const element = document.createElement("button");
      element.textContent = button.text;
      if (button.callback_data !== undefined) {
        element.dataset.data = button.callback_data;
        element.addEventListener("click", () => press(message, button.callback_data));
      } else if (button.url) {
        element.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
      }
      line.appendChild(element);
    }
    box.appendChild(line);
  }
  return box;
}

function bubble(message) {
  const box = document.createElement("div");
  const mine = message.from && message.from.id === currentUser();
  box.className = "msg" + (mine ? " mine" : "") + (message.deleted ? " deleted" : "");
  box.dataset.messageId = message.message_id;
  box.dataset.from = message.from.is_bot ? "bot" : "user";
  if (!mine) {
    const who = document.createElement("div");
    who.className = "sender";
    who.textContent = message.from.first_name;
    box.appendChild(who);
  }
  if (message.deleted) {
    box.appendChild(document.createTextNode("message deleted"));
    return box;
  }
  if (message.photo) {
    const largest = message.photo[message.photo.length - 1];
    const image = document.createElement("img");
    image.className = "photo";
    image.src = control(`/files/${encodeURIComponent(largest.file_id)}`);
    image.width = largest.width;
    image.alt = "photo";
    box.appendChild(image);
  }
  if (message.document) {
    const doc = message.document;
    const link = document.createElement("a");
    link.className = "document";
    link.href = control(`/files/${encodeURIComponent(doc.file_id)}?download=1`);
    link.download = doc.file_name || "file";
    link.textContent = `📄 ${doc.file_name || "file"} (${doc.file_size} bytes)`;
    box.appendChild(link);
  }
  const text = message.text !== undefined ? message.text : message.caption;
  if (text !== undefined) {
    const body = document.createElement("div");
    body.className = "text";
    body.appendChild(formatted(text, message.entities || message.caption_entities));
    box.appendChild(body);
  }
  const buttons = keyboard(message);
  if (buttons) box.appendChild(buttons);
  const meta = document.createElement("div");
  meta.className = "meta";
  const time = new Date((message.edit_date || message.date) * 1000).toLocaleTimeString();
  meta.textContent = (message.edit_date ? "edited " : "") + time;
  box.appendChild(meta);
  return box;
}

// Bubbles are keyed by "chat:message_id": a new message is appended, an edit or a
// deletion replaces only its own bubble, and switching chats draws the chat afresh.
const bubbles = new Map();

function scrolledToEnd(pane) { return pane.scrollHeight - pane.scrollTop - pane.clientHeight < 40; }

function toEnd(pane, element) {
  pane.scrollTop = pane.scrollHeight;
  // A photo grows its bubble when it loads: stay at the end then too.
  for (const image of element.querySelectorAll("img")) {
    image.addEventListener("load", () => { pane.scrollTop = pane.scrollHeight; });
  }
}

function render() {
  const pane = $("messages");
  const chat = currentChat();
  bubbles.clear();
  pane.replaceChildren();
  for (const key of state.order) {
    const message = state.messages.get(key);
    if (message.chat.id !== chat) continue;
    const element = bubble(message);
    bubbles.set(key, element);
    pane.appendChild(element);
    toEnd(pane, element);
  }
}

function show(key) {
  const message = state.messages.get(key);
  if (!message || message.chat.id !== currentChat()) return;
  const pane = $("messages");
  const atEnd = scrolledToEnd(pane);
  const fresh = bubble(message);
  const old = bubbles.get(key);
  if (old) old.replaceWith(fresh); else pane.appendChild(fresh);
  bubbles.set(key, fresh);
  if (atEnd) toEnd(pane, fresh);
}

// -- what arrives from the emulator ------------------------------------------------------
function remember(message) {
  const key = `${message.chat.id}:${message.message_id}`;
  if (!state.messages.has(key)) state.order.push(key);
  state.messages.set(key, message);
  show(key);
}

function follow() {
  const stream = new EventSource(control("/events"));
  stream.addEventListener("message", (event) => remember(JSON.parse(event.data)));
  stream.addEventListener("edit", (event) => remember(JSON.parse(event.data)));
  stream.addEventListener("delete", (event) => {
    const gone = JSON.parse(event.data);
    const key = `${gone.chat_id}:${gone.message_id}`;
    const message = state.messages.get(key);
    if (message) { message.deleted = true; show(key); }
  });
  stream.addEventListener("answer", (event) => {
    const answer = JSON.parse(event.data);
    // The bot may answer before this page has read the press's own response.
    if (state.pressed.has(answer.callback_query_id)) {
      if (answer.text) toast(answer.text);
    } else {
      state.answers.set(answer.callback_query_id, answer.text);
    }
  });
  stream.addEventListener("commands", () => { if (!$("command-menu").hidden) openMenu(); });
}

// -- what the user does ------------------------------------------------------------------
async function send(text) {
  try {
    await api(control("/messages"), { method: "POST",
      body: { from: currentUser(), chat_id: currentChat(), text } });
  } catch (error) { toast(`Not sent: ${error.message}`); }
}

async function press(message, data) {
  try {
    const result = await api(control("/callbacks"), { method: "POST",
      body: { from: currentUser(), chat_id: message.chat.id, message_id: message.message_id, data } });
    const id = result.callback_query_id;
    if (state.answers.has(id)) {
      if (state.answers.get(id)) toast(state.answers.get(id));
      state.answers.delete(id);
    } else {
      state.pressed.add(id);
    }
  } catch (error) { toast(`Button: ${error.message}`); }
}

async function openMenu() {
  const box = $("command-menu");
  const commands = await api(control(`/menu?user=${currentUser()}&chat=${currentChat()}`));
  box.replaceChildren();
  if (commands.length === 0) {
    const empty = document.createElement("div");
    empty.className = "empty";
    empty.textContent = "The bot has published no commands for this chat.";
    box.appendChild(empty);
  }
  for (const command of commands) {
    const item = document.createElement("div");
    item.className = "command";
    item.dataset.command = command.command;
    const name = document.createElement("b");
    name.textContent = `/${command.command}`;
    const about = document.createElement("span");
    about.textContent = command.description;
    item.append(name, about);
    item.addEventListener("click", () => { box.hidden = true; send(`/${command.command}`); });
    box.appendChild(item);
  }
  box.hidden = false;
}

// -- the side panel ----------------------------------------------------------------------
async function refreshWorld() {
  try {
    const [bot, counters] = await Promise.all([api(control("")), api(control("/counters"))]);
    $("world-poller").textContent = bot.waiting_poller || "nobody is waiting in getUpdates";
    $("world-webhook").textContent = bot.webhook
      ? `${bot.webhook.url}${bot.webhook.last_error_message ? ` (last error: ${bot.webhook.last_error_message})` : ""}`
      : "none";
    $("world-pending").textContent = bot.pending_updates;
    $("world-polls").textContent = counters.get_updates;
    $("world-409").textContent = counters.conflicts;
    $("world-429").textContent = counters.flood;
    $("world-5xx").textContent = Object.entries(counters.status)
      .filter(([code]) => code.startsWith("5")).reduce((sum, [, n]) => sum + n, 0);
    $("world-foreign").textContent = bot.foreign_poller ? "polling" : "off";
    $("world-events").replaceChildren(...counters.events.slice(-8).reverse().map((e) => {
      const item = document.createElement("li");
      item.textContent = `${new Date(e.time * 1000).toLocaleTimeString()} ${e.status} ${e.method} → ${e.user_agent}`;
      return item;
    }));
  } catch (error) { $("world-poller").textContent = `emulator unreachable: ${error.message}`; }
}

const FAILURES = {
  "play-foreign-poller": ["POST", "/foreign_poller", { seconds: 60 }, "A foreign poller polls for 60 s"],
  "play-webhook": ["POST", "/webhook", { url: "http://127.0.0.1:9/elsewhere" }, "A webhook was set from elsewhere"],
  "play-5xx": ["POST", "/faults", { kind: "status", status: 502, method: "getUpdates", times: 5 }, "The next 5 getUpdates answer 502"],
  "play-flood": ["POST", "/faults", { kind: "flood", method: "sendMessage", times: 3, retry_after: 5 }, "The next 3 sendMessage answer 429"],
};

async function backToNormal() {
  await api(control("/foreign_poller"), { method: "DELETE" });
  await api(control("/webhook"), { method: "DELETE" });
  await api(control("/faults"), { method: "DELETE" });
  toast("Back to normal");
}

// -- start -------------------------------------------------------------------------------
async function start() {
  const bots = await api("/_emulator/bots");
  const wanted = new URLSearchParams(location.search).get("bot");
  const chosen = bots.find((b) => String(b.id) === wanted) || bots[0];
  if (!chosen) { $("bot-name").textContent = "The emulator has no bot."; return; }
  const people = await api(`/_emulator/bots/${chosen.id}/people`);
  Object.assign(state, { bot: { id: chosen.id, ...people.bot }, users: people.users, groups: people.groups });
  $("bot-name").textContent = `@${chosen.username}`;
  $("user-select").replaceChildren(...people.users.map((u) => new Option(u.first_name, u.id)));
  $("chat-select").replaceChildren(new Option("private chat", "private"),
    ...people.groups.map((g) => new Option(g.title, g.id)));
  for (const id of ["user-select", "chat-select"]) {
    $(id).addEventListener("change", () => { $("command-menu").hidden = true; render(); });
  }
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (text) { send(text); $("text").value = ""; }
  });
  $("menu-button").addEventListener("click", () => {
    if ($("command-menu").hidden) openMenu(); else $("command-menu").hidden = true;
  });
  for (const [id, [method, path, body, said]] of Object.entries(FAILURES)) {
    $(id).addEventListener("click", () => api(control(path), { method, body })
      .then(() => { toast(said); refreshWorld(); }, (error) => toast(error.message)));
  }
  $("play-clear").addEventListener("click", () => backToNormal().then(refreshWorld, (e) => toast(e.message)));
  follow();
  refreshWorld();
  setInterval(refreshWorld, 2000);
}

start().catch((error) => { $("bot-name").textContent = `Cannot start: ${error.message}`; });
