import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { invalid } from '../errors.ts';

/**
 * Exchange secrets and passphrases never travel as arguments: every user of the machine can read
 * a process's arguments (`ps`), and shells keep them in their history. They come from a file
 * (`--secret-file FILE`, mode 0600 is the owner's business) or from standard input
 * (`--secret-file -`), e.g. `pass show binance | opencommas account add … --secret-file -`.
 */
export interface SecretOptions {
  secretFile?: string;
  passphraseFile?: string;
  /** The old value flags, kept only to refuse them with a pointer to the new way. */
  secret?: string;
  passphrase?: string;
}

/**
 * `--secret-file` and `--passphrase-file`; `--secret S` / `--passphrase P` are parsed only to be
 * refused with a pointer to the new way (hidden from help).
 */
export function addSecretOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--secret-file <file>',
        'file holding the exchange API secret ("-": read it from standard input)',
      ),
    )
    .addOption(
      new Option(
        '--passphrase-file <file>',
        'file holding the exchange API passphrase, for okex and kucoin ("-": standard input)',
      ),
    )
    .addOption(new Option('--secret <value>').hideHelp())
    .addOption(new Option('--passphrase <value>').hideHelp());
}

/** The secret and passphrase the options point to (absent when not asked for). */
export async function readSecrets(
  options: SecretOptions,
): Promise<{ secret?: string; passphrase?: string }> {
  for (const [flag, value] of [
    ['secret', options.secret],
    ['passphrase', options.passphrase],
  ] as const) {
    if (value !== undefined) {
      // Never echo the value: it is the secret the user should not have typed here.
      throw invalid(
        flag,
        `--${flag} on the command line is refused (other users can read it, shells keep it): ` +
          `use --${flag}-file FILE, or --${flag}-file - to read it from standard input`,
      );
    }
  }
  if (options.secretFile === '-' && options.passphraseFile === '-') {
    throw invalid('passphrase_file', 'only one of --secret-file and --passphrase-file can be -');
  }
  return {
    ...(options.secretFile !== undefined
      ? { secret: await readSecret(options.secretFile, 'secret_file') }
      : {}),
    ...(options.passphraseFile !== undefined
      ? { passphrase: await readSecret(options.passphraseFile, 'passphrase_file') }
      : {}),
  };
}

async function readSecret(file: string, field: string): Promise<string> {
  const text = file === '-' ? await readStandardInput() : readSecretFile(file, field);
  // One trailing line end, as `echo` and editors leave it; nothing else is trimmed.
  const value = text.replace(/\r?\n$/, '');
  if (value === '') {
    throw invalid(field, `${file === '-' ? 'standard input' : file} is empty`);
  }
  return value;
}

function readSecretFile(file: string, field: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw invalid(field, `cannot read ${file}: ${reason}`);
  }
}

async function readStandardInput(): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write('opencommas: type the secret, then Enter and Ctrl-D\n');
  }
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk as string;
  return text;
}
