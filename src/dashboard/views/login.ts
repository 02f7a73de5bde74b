import { html, type Html } from '../html.ts';
import { notice, page } from '../layout.ts';
import { input } from './input.ts';

export interface LoginForm {
  email?: string;
  error?: string;
  next?: string;
  /** The pre-session CSRF token (double-submitted with its cookie). */
  loginToken: string;
}

export function loginPage(form: LoginForm): Html {
  return page({
    title: 'Sign in',
    body: html`<div class="login panel">
      <h1>Sign in</h1>
      ${form.error && notice('error', form.error)}
      <form method="post" action="/login" class="stack">
        <input type="hidden" name="_login" value="${form.loginToken}" />
        ${form.next && form.next !== '/' && html`<input type="hidden" name="next" value="${form.next}" />`}
        ${input({
          id: 'email',
          name: 'email',
          label: 'Email',
          type: 'email',
          autocomplete: 'username',
          value: form.email ?? '',
        })}
        ${input({
          id: 'password',
          name: 'password',
          label: 'Password',
          type: 'password',
          autocomplete: 'current-password',
        })}
        <div><button type="submit" class="primary">Sign in</button></div>
      </form>
      <p class="hint">
        No password yet? Ask the operator for a sign-in link (<code
          >opencommas user login-link --user ID</code
        >), or set one with <code>opencommas user password --user ID</code>.
        <code>npm start</code> prints a link for the demo user.
      </p>
    </div>`,
  });
}
