// Desktop notifications for mentions and direct messages. Permission is asked for only when the
// user presses the button (never on load), and the choice is remembered.
// Notifications show text only (the Notification API renders no HTML).

import { recall, remember } from './text.js';

const KEY = 'banter.notify';

export class Notifier {
  constructor(button) {
    this.button = button;
    this.supported = typeof Notification === 'function';
    this.wanted = this.supported && recall(KEY) === 'on';
    button.hidden = !this.supported;
    button.addEventListener('click', () => this.toggle());
    this.render();
  }

  enabled() {
    return this.wanted && this.supported && Notification.permission === 'granted';
  }

  async toggle() {
    if (this.wanted) {
      this.wanted = false;
    } else {
      const answer = Notification.permission === 'default'
        ? await Notification.requestPermission()
        : Notification.permission;
      this.wanted = answer === 'granted';
    }
    remember(KEY, this.wanted ? 'on' : 'off');
    this.render();
  }

  render() {
    if (!this.supported) return;
    const blocked = Notification.permission === 'denied';
    this.button.disabled = blocked;
    this.button.setAttribute('aria-pressed', String(this.enabled()));
    this.button.textContent = blocked ? 'Notifications blocked by the browser'
      : this.enabled() ? 'Mention notifications: on' : 'Notify me of mentions';
  }

  /** A mention of the user from `from` in `label` (or a direct message,
   *  `label` `@name`); `onClick` shows it. */
  mention(label, from, text, onClick) {
    if (!this.enabled()) return;
    const title = label.startsWith('@') ? `${from} (direct message)` : `${from} in ${label}`;
    const n = new Notification(title, { body: text.slice(0, 200), tag: label });
    n.onclick = () => {
      window.focus();
      onClick();
      n.close();
    };
  }
}
