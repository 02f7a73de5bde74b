// `<form data-busy="Syncing…">`: once submitted, its submit button is disabled and says so, and
// a second submit is refused, until the next page arrives.

type SubmitControl = HTMLButtonElement | HTMLInputElement;

function submitControlOf(
  form: HTMLFormElement,
  submitter: HTMLElement | null,
): SubmitControl | null {
  if (submitter instanceof HTMLButtonElement || submitter instanceof HTMLInputElement) {
    return submitter;
  }
  return form.querySelector<SubmitControl>(
    'button[type="submit"], button:not([type]), input[type="submit"]',
  );
}

/** A disabled button is left out of the form's data: its name=value goes in a hidden field. */
function keepValue(form: HTMLFormElement, control: SubmitControl): void {
  if (!control.name) return;
  const field = document.createElement('input');
  field.type = 'hidden';
  field.name = control.name;
  field.value = control.value;
  field.dataset.busyCopy = '';
  form.append(field);
}

function setLabel(control: SubmitControl, text: string): void {
  if (control instanceof HTMLInputElement) control.value = text;
  else control.textContent = text;
}

export function enhanceBusyForms(): void {
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.dataset.busy === undefined) return;
    if (event.defaultPrevented) return; // another handler stopped it: not busy
    if (form.getAttribute('aria-busy') === 'true') {
      event.preventDefault();
      return;
    }
    form.setAttribute('aria-busy', 'true');
    const control = submitControlOf(form, event.submitter);
    if (!control) return;
    keepValue(form, control);
    control.dataset.busyLabel =
      control instanceof HTMLInputElement ? control.value : (control.textContent ?? '');
    setLabel(control, form.dataset.busy || control.dataset.busyLabel);
    control.disabled = true;
  });
  // Back from the next page (bfcache): the form is usable again.
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    for (const form of document.querySelectorAll<HTMLFormElement>('form[data-busy]')) {
      form.removeAttribute('aria-busy');
      form.querySelectorAll('[data-busy-copy]').forEach((field) => field.remove());
      for (const control of form.querySelectorAll<SubmitControl>('[data-busy-label]')) {
        setLabel(control, control.dataset.busyLabel ?? '');
        delete control.dataset.busyLabel;
        control.disabled = false;
      }
    }
  });
}
