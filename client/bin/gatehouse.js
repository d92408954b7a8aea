#!/usr/bin/env node
// The `gatehouse` executable, in both places it runs:
// - this repository: the TypeScript sources (client/run.ts) through tsx, which `npm ci` installs, so no build step;
// - the installed package: the compiled dist/client/run.js (the package ships no client sources, and needs no tsx).
// Which one is decided by whether the sources sit beside this file, never by what happens to be installed.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const source = new URL('../run.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../../dist/client/run.js', import.meta.url).href);
}
