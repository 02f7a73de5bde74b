// "Exact figures": every `<data class="figure">` shows either its rounded text (data-human) or
// the stored decimal (data-exact). The choice outlives the page, in this browser only.

const STORAGE_KEY = 'opencommas.exact';

function remembered(): boolean {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'true';
  } catch {
    // Storage can be off (privacy settings); the toggle still works for this page.
    return false;
  }
}

function remember(exact: boolean): void {
  try {
    if (exact) localStorage.setItem(STORAGE_KEY, 'true');
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // As above: nothing to keep it in.
  }
}

function show(exact: boolean): void {
  for (const figure of document.querySelectorAll<HTMLElement>('.figure')) {
    const text = exact ? figure.dataset.exact : figure.dataset.human;
    if (text !== undefined) figure.textContent = text;
  }
  for (const toggle of document.querySelectorAll('[data-exact-toggle]')) {
    toggle.setAttribute('aria-pressed', String(exact));
  }
}

export function enhanceExactFigures(): void {
  if (remembered()) show(true);
  document.addEventListener('click', (event) => {
    const toggle = (event.target as Element).closest('[data-exact-toggle]');
    if (!toggle) return;
    const exact = toggle.getAttribute('aria-pressed') !== 'true';
    show(exact);
    remember(exact);
  });
}
