// The page's entry point: the sign-in form, the connection status bar (always
// visible), the message input and its commands, the keyboard shortcuts and
// the panels of the narrow (phone) layout. The chat itself is chat.js's.

import { Connection, socketUrl } from './connection.js';
import { isValidName, sameName, utf8Length } from './codec.js';
import { Chat } from './chat.js';
import { HELP, parse } from './compose.js';
import { Notifier } from './notify.js';
import { recall, remember } from './text.js';

const $ = (id) => document.getElementById(id);
const dom = {
  login: $('login'), loginForm: $('login-form'), loginName: $('login-name'),
  loginPassword: $('login-password'), loginRegister: $('login-register'),
  loginError: $('login-error'), chat: $('chat'), roomList: $('room-list'),
  joinForm: $('join-form'), joinName: $('join-name'), me: $('me'), signout: $('signout'),
  dmSection: $('dm-section'), dmList: $('dm-list'), dmForm: $('dm-form'), dmName: $('dm-name'),
  messages: $('messages'), typing: $('typing'), compose: $('compose'), input: $('input'),
  composeError: $('compose-error'), memberList: $('member-list'), memberCount: $('member-count'),
  roomTitle: $('room-title'), status: $('status'), statusText: $('status-text'), retry: $('retry'),
  roomsToggle: $('rooms-toggle'), membersToggle: $('members-toggle'), sidebar: $('sidebar'),
  members: $('members'), room: $('room'), attach: $('attach'), fileInput: $('file-input'),
};

const notifier = new Notifier($('notify'));
let conn = null;
let chat = null;
let registerWith = null; // a password to REGISTER once signed in
let status = { state: 'idle' }; // the connection's last state event
let lag = null;
let countdown = null;

// A reload resumes the session: the page leaves its token (never its
// password) and unsent messages in sessionStorage, which is this tab's only.
// It is taken out at once, so a duplicated tab starts a session of its own.
const SESSION_KEY = 'banter.session';
let resumable = takeSnapshot();

function takeSnapshot() {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    sessionStorage.removeItem(SESSION_KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null; // storage disabled, or not ours: sign in afresh
  }
}

// Files on their way are lost with the page (a File cannot be kept for
// later): the browser asks before leaving then.
window.addEventListener('beforeunload', (ev) => {
  if (conn && conn.uploads.count() > 0) ev.preventDefault();
});

// A file dropped on the page while no chat takes it (the sign-in form) must
// not make the browser leave the page to open it.
for (const type of ['dragover', 'drop']) {
  document.addEventListener(type, (ev) => {
    const files = ev.dataTransfer && [...ev.dataTransfer.types].includes('Files');
    if (files && !chat) ev.preventDefault();
  });
}

window.addEventListener('pagehide', () => {
  if (!conn || conn.state === 'idle' || conn.session.token === 0n) return;
  try {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(conn.session.snapshot()));
  } catch { /* nothing to resume with: the next load signs in afresh */ }
});

// --- signing in and out --------------------------------------------------

function signIn(register) {
  const name = dom.loginName.value.trim();
  const password = dom.loginPassword.value;
  const weak = utf8Length(password) < 8 || utf8Length(password) > 256;
  const problem = !isValidName(name)
    ? 'That name is not valid: 1–32 letters, digits, _ . or -, starting with a letter or digit.'
    : register && weak ? 'To register, choose a password of 8 to 256 bytes.' : null;
  dom.loginError.textContent = problem || '';
  if (problem) return;
  remember('banter.name', name);
  registerWith = register ? password : null;
  end();
  conn = new Connection(socketUrl(), onEvent);
  chat = new Chat(dom, conn, notifier);
  if (resumable && sameName(String(resumable.name), name)) conn.session.restore(resumable);
  resumable = null;
  conn.start(name, password);
  dom.loginForm.querySelectorAll('button').forEach((b) => { b.disabled = true; });
}

/** Throws away the connection and the chat (sign-out, or a refused name). */
function end() {
  if (chat) chat.dispose();
  if (conn) conn.dispose();
  chat = conn = null;
}

function showLogin(error) {
  end();
  dom.chat.hidden = true;
  dom.login.hidden = false;
  dom.roomsToggle.hidden = dom.membersToggle.hidden = true;
  dom.roomTitle.textContent = 'Banter';
  document.title = 'Banter';
  dom.loginError.textContent = error || '';
  dom.loginForm.querySelectorAll('button').forEach((b) => { b.disabled = false; });
  renderStatus();
  dom.loginName.focus();
}

function showChat() {
  dom.login.hidden = true;
  dom.chat.hidden = false;
  dom.roomsToggle.hidden = dom.membersToggle.hidden = false;
  dom.loginPassword.value = '';
  autosize();
  dom.input.focus();
}

dom.loginName.value = recall('banter.name', '');
dom.loginForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  signIn(false);
});
dom.loginRegister.addEventListener('click', () => signIn(true));
dom.signout.addEventListener('click', () => {
  conn.quit('signed out');
  status = { state: 'idle' };
  showLogin('');
});

// --- events from the connection -------------------------------------------

function onEvent(e) {
  if (e.kind === 'state') {
    status = e;
    if (e.state !== 'connected') lag = null;
  }
  if (e.kind === 'lag') lag = e.ms;
  if (e.kind === 'welcome') onWelcome();
  if (e.kind === 'nameRefused') return showLogin(refusal(e.code, e.detail));
  if (e.kind === 'error' && e.code === 'ALREADY_REGISTERED' && registerWith === null) {
    e = { ...e, detail: `${conn.session.name} is registered; you signed in with its password` };
  }
  if (chat) chat.onEvent(e);
  renderStatus();
}

function onWelcome() {
  if (dom.chat.hidden) showChat();
  if (registerWith !== null) {
    conn.session.register(registerWith);
    registerWith = null;
  }
}

function refusal(code, detail) {
  const why = {
    NAME_TAKEN: 'That name is in use right now. Choose another.',
    NAME_INVALID: 'The server refused that name.',
    AUTH_FAILED: 'Wrong password for that name.',
    AUTH_REQUIRED: 'This server needs a password: enter one of 8 to 256 bytes ' +
      '(a new name is registered with it).',
    TLS_REQUIRED: 'This server takes passwords only over an encrypted connection (https).',
  }[code];
  return `${why || code} (${code}: ${detail})`;
}

// --- the status bar ---------------------------------------------------------

function renderStatus() {
  clearInterval(countdown);
  countdown = null;
  const s = status;
  dom.status.dataset.state = s.state;
  dom.retry.hidden = !(s.state === 'waiting' || s.state === 'offline');
  dom.retry.textContent = s.state === 'offline' ? 'Reconnect' : 'Retry now';
  dom.statusText.textContent = statusText(s);
  if (s.state === 'waiting') {
    countdown = setInterval(() => { dom.statusText.textContent = statusText(s); }, 1000);
  }
}

function statusText(s) {
  const unsent = conn ? conn.session.unsent() : 0;
  const files = conn ? conn.uploads.count() : 0;
  const queued = (unsent ? ` · ${unsent} unsent` : '') +
    (files ? ` · sending ${files} file${files === 1 ? '' : 's'}` : '');
  switch (s.state) {
    case 'connecting':
      return (s.attempt ? `reconnecting (attempt ${s.attempt})…` : 'connecting…') + queued;
    case 'connected':
      return `connected as ${conn.session.name}${lag === null ? '' : ` · ${lag} ms`}${queued}`;
    case 'waiting': {
      const secs = Math.max(0, Math.ceil((s.until - Date.now()) / 1000));
      return `offline: ${s.reason} · reconnecting in ${secs} s${queued}`;
    }
    case 'offline': return `offline: ${s.reason}${queued}`;
    default: return s.reason ? `not signed in (${s.reason})` : 'not signed in';
  }
}

dom.retry.addEventListener('click', () => conn && conn.retryNow());
// The browser knows when the network is back: no need to wait for the backoff.
window.addEventListener('online', () => conn && conn.retryNow());

// --- the message input -------------------------------------------------------

function submit() {
  const text = dom.input.value;
  if (!text.trim() || !chat) return;
  try {
    run(parse(text));
    dom.input.value = '';
    dom.composeError.textContent = '';
  } catch (err) {
    // The text stays in the input, so nothing the user typed is lost.
    dom.composeError.textContent = err.message;
  }
  autosize();
  renderStatus(); // the count of unsent messages may have changed
}

function run(p) {
  if (p.say !== undefined) return chat.say(p.say, p.action);
  switch (p.cmd) {
    case 'join': return chat.join(p.arg);
    case 'msg': return chat.message(p.arg, p.text);
    case 'leave': return chat.leave(p.arg || chat.active);
    case 'who': return chat.who();
    case 'register': return conn.session.online ? conn.session.register(p.arg)
      : chat.info('not connected: /register once connected', 'error');
    case 'help': return HELP.forEach((line) => chat.info(line));
    case 'quit':
      conn.quit(p.arg);
      status = { state: 'idle' };
      return showLogin('');
    default: return undefined;
  }
}

function autosize() {
  dom.input.style.height = 'auto'; // CSSOM, not an inline style attribute: CSP allows it
  dom.input.style.height = `${Math.min(dom.input.scrollHeight, 160)}px`;
  dom.input.style.overflowY = dom.input.scrollHeight > 160 ? 'auto' : 'hidden';
}

dom.compose.addEventListener('submit', (ev) => {
  ev.preventDefault();
  submit();
  dom.input.focus();
});
dom.input.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    submit();
  } else if (ev.key === 'PageUp' || ev.key === 'PageDown') {
    ev.preventDefault();
    const page = dom.messages.clientHeight * 0.9;
    dom.messages.scrollBy(0, ev.key === 'PageUp' ? -page : page);
  }
});
dom.input.addEventListener('input', () => {
  autosize();
  if (chat && chat.active) chat.typing.input(chat.active, dom.input.value);
});
/** The sidebar's fields: `/join ROOM` and the new conversation's `/msg NAME`. */
function sidebarForm(form, input, command) {
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!chat || !input.value.trim()) return;
    try {
      run(parse(`/${command} ${input.value.trim()}`));
      input.value = '';
      closePanels();
      dom.input.focus();
    } catch (err) {
      chat.info(err.message, 'error');
    }
  });
}
sidebarForm(dom.joinForm, dom.joinName, 'join');
sidebarForm(dom.dmForm, dom.dmName, 'msg');

// --- keyboard shortcuts and the narrow layout's panels -------------------------

function switchRoom(delta, index) {
  if (!chat) return;
  const keys = chat.roomKeys();
  if (keys.length === 0) return;
  const at = keys.indexOf(chat.active);
  const next = index !== undefined ? keys[index] : keys[(at + delta + keys.length) % keys.length];
  if (next) chat.show(next);
}

document.addEventListener('keydown', (ev) => {
  if (ev.altKey && (ev.key === 'ArrowUp' || ev.key === 'ArrowDown')) {
    ev.preventDefault();
    switchRoom(ev.key === 'ArrowUp' ? -1 : 1);
  } else if (ev.altKey && /^Digit[1-9]$/.test(ev.code)) {
    ev.preventDefault();
    switchRoom(0, Number(ev.code.slice(5)) - 1);
  } else if (ev.key === 'Escape' && closePanels()) {
    dom.input.focus();
  }
});

function togglePanel(button, panel) {
  const open = !panel.classList.contains('open');
  closePanels();
  panel.classList.toggle('open', open);
  button.setAttribute('aria-expanded', String(open));
  if (open) (panel.querySelector('button, input') || panel).focus();
}

/** Closes the phone layout's panels; true if one was open. */
function closePanels() {
  let was = false;
  const panels = [[dom.roomsToggle, dom.sidebar], [dom.membersToggle, dom.members]];
  for (const [button, panel] of panels) {
    was ||= panel.classList.contains('open');
    panel.classList.remove('open');
    button.setAttribute('aria-expanded', 'false');
  }
  return was;
}

dom.roomsToggle.addEventListener('click', () => togglePanel(dom.roomsToggle, dom.sidebar));
dom.membersToggle.addEventListener('click', () => togglePanel(dom.membersToggle, dom.members));
for (const list of [dom.roomList, dom.dmList]) {
  list.addEventListener('click', (ev) => {
    if (ev.target.closest('.open')) {
      closePanels();
      dom.input.focus();
    }
  });
}
document.addEventListener('visibilitychange', () => chat && chat.markSeen());
window.addEventListener('focus', () => chat && chat.markSeen());

showLogin('');
if (resumable && resumable.registered) {
  dom.loginName.value = resumable.name;
  dom.loginError.textContent = 'Enter your password to resume your session.';
  dom.loginPassword.focus();
} else if (resumable) {
  dom.loginName.value = resumable.name;
  signIn(false);
}
