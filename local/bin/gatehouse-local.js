#!/usr/bin/env node
// `gatehouse-local [--app <file>] [--persist] [--quiet]`: the local stack (`npm start` in this repository) for a
// project that installed Gatehouse as a package — Gatehouse's own API, or with --app a team's defineApp declaration.
//
// The local stack needs packages a deployment does not: dynalite (DynamoDB) and oidc-provider (the OIDC issuer),
// and tsx to load TypeScript app files and Lambda entries. They are optional peer dependencies of gatehouse, so a
// project that only deploys never installs them; this checks for them first and says what to install.
import { existsSync, readFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const peers = packageJson.peerDependencies ?? {};

const resolvable = (name) => {
  try {
    import.meta.resolve(name);
    return true;
  } catch {
    return false;
  }
};
const install = (names) => `npm install --save-dev ${names.map((name) => `${name}@${JSON.stringify(peers[name] ?? 'latest')}`).join(' ')}`;
const fail = (message) => {
  process.stderr.write(`gatehouse-local: ${message}\n`);
  process.exit(1);
};

const source = new URL('../main.ts', import.meta.url);
// The usage text names the command the person typed.
process.env.GATEHOUSE_LOCAL_COMMAND ??= 'gatehouse-local';
const inRepository = existsSync(source);
const missing = ['dynalite', 'oidc-provider'].filter((name) => !resolvable(name));
if (missing.length > 0) fail(`the local stack needs ${missing.join(' and ')} (optional peer dependencies of gatehouse): ${install(missing)}`);

// A TypeScript declaration (--app gatehouse.app.ts) and its Lambda entries are loaded through tsx.
const typescriptArgument = process.argv.slice(2).some((arg) => /\.(c|m)?ts$/.test(arg));
if (resolvable('tsx/esm/api')) {
  const { register } = await import('tsx/esm/api');
  register();
} else if (inRepository || typescriptArgument) {
  fail(`loading TypeScript needs tsx (an optional peer dependency of gatehouse): ${install(['tsx'])}`);
}

await import(inRepository ? source.href : new URL('../../dist/local/main.js', import.meta.url).href);
