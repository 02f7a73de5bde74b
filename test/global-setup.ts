// Tests run child processes of the compiled CLI (dist/): build it (and the embedded database's
// template) once, before any file runs, rather than letting the first children race to.
import { freshBuild, preparePgliteTemplate } from '../bin/build.mjs';

export default async function setup(): Promise<void> {
  freshBuild({ quiet: true });
  await preparePgliteTemplate();
}
