// `<input type="file" data-file-into="#textarea">`: the chosen file's text goes into the
// textarea (an RSA public key's PEM), so the form still posts plain text. Without the script,
// the key is pasted. Choosing a file also picks RSA signing, which is what a public key is for.

/** A PEM public key is well under this; anything larger is not one. */
const MAX_BYTES = 16_384;

export function enhanceFileInputs(): void {
  document.addEventListener('change', (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'file') return;
    const selector = input.dataset.fileInto;
    const file = input.files?.[0];
    if (!selector || !file) return;
    const target = document.querySelector(selector);
    if (!(target instanceof HTMLTextAreaElement)) return;
    if (file.size > MAX_BYTES) {
      input.setCustomValidity(`${file.name} is too large to be a public key`);
      input.reportValidity();
      return;
    }
    input.setCustomValidity('');
    void file.text().then((text) => {
      target.value = text.trim();
      const rsa = target.form?.querySelector<HTMLInputElement>(
        'input[name="signing"][value="RSA"]',
      );
      if (rsa) rsa.checked = true;
    });
  });
}
