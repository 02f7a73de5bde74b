// Tests run child processes of the compiled CLI (dist/): build it once, before any file runs,
// rather than letting the first children of several test files race to build it.
import { freshBuild } from '../bin/build.mjs';

export default function setup(): void {
  freshBuild({ quiet: true });
}
