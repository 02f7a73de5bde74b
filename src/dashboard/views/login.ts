import { html, type Html } from '../html.ts';
import { notice, page } from '../layout.ts';

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
        <div>
          <label for="email">Email</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="username"
            required
            value="${form.email ?? ''}"
          />
        </div>
        <div>
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
          />
        </div>
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
