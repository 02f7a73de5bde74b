import { invalid } from '../errors.ts';

/**
 * A password never travels as an argument (other users see arguments in `ps`, shells keep
 * them): it is read from standard input, whole, with one trailing line end removed
 * (`printf '%s\n' "$PW" | opencommas user password --user 1`). At a terminal the CLI prompts
 * `Password: ` and reads one line without echoing it.
 */
export async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  const text = stdin.isTTY ? await promptHidden('Password: ') : await readAll();
  return text.replace(/\r?\n$/, '');
}

async function readAll(): Promise<string> {
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk as string;
  return text;
}

/** One line typed at the terminal, not echoed; Backspace edits, Ctrl-C and Ctrl-D give up. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  let typed = '';
  return new Promise((resolve, reject) => {
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003' || char === '\u0004') {
          return finish(invalid('password', 'not entered (cancelled)'));
        }
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += char;
      }
    };
    stdin.on('data', onData);
  });
}
