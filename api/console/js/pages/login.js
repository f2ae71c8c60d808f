// Login with an account of the API (the demo accounts work on the embedded default).
import { login } from '../api.js';
import { h, page, field, errorBox } from '../dom.js';
import { t } from '../i18n.js';

export function render(params) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const msg = h('div', {});
  const form = h('form', { class: 'card login', novalidate: false },
    field('login.email', email),
    field('login.password', password),
    h('button', { type: 'submit', class: 'primary' }, t('login.submit')),
    msg,
    h('p', { class: 'hint' }, t('login.hint')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.replaceChildren();
    try {
      await login(email.value.trim(), password.value);
      const next = params.get('next');
      location.hash = next && next.startsWith('#/') && !next.startsWith('#/login') ? next : '#/';
    } catch (err) {
      msg.replaceChildren(errorBox(err));
      password.focus();
    }
  });
  page('login.title', form);
  email.focus();
}
