// `<button data-copy="#id">`: copies that element's text (an API key, an address) and says so
// on the button for two seconds; the button is a polite live region, so it is announced too.

const SHOWN_FOR_MS = 2000;
const restoreTimers = new WeakMap<HTMLElement, number>();

function textOf(selector: string): string | undefined {
  let target: Element | null;
  try {
    target = document.querySelector(selector);
  } catch {
    return undefined; // not a selector
  }
  if (!target) return undefined;
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) {
    return target.value;
  }
  return target.textContent?.trim() ?? '';
}

function announce(button: HTMLElement, text: string): void {
  const original = button.dataset.copyLabel ?? button.textContent ?? '';
  button.dataset.copyLabel = original;
  button.textContent = text;
  clearTimeout(restoreTimers.get(button));
  restoreTimers.set(
    button,
    window.setTimeout(() => {
      button.textContent = original;
      delete button.dataset.copyLabel;
    }, SHOWN_FOR_MS),
  );
}

async function copy(button: HTMLElement): Promise<void> {
  const text = textOf(button.dataset.copy ?? '');
  if (text === undefined || !navigator.clipboard) {
    announce(button, 'Copy failed');
    return;
  }
  try {
    await navigator.clipboard.writeText(text);
    announce(button, 'Copied');
  } catch {
    // Refused (no permission, page not focused): say so rather than pretend.
    announce(button, 'Copy failed');
  }
}

export function enhanceCopyButtons(): void {
  for (const button of document.querySelectorAll('[data-copy]')) {
    button.setAttribute('aria-live', 'polite');
  }
  document.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLElement>('[data-copy]');
    if (button) void copy(button);
  });
}
