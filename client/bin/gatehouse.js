#!/usr/bin/env node
// The `gatehouse` executable: runs the TypeScript sources through tsx, which `npm ci` installs in this repository,
// so there is no build step. (For use outside the repository, bundle client/run.ts with esbuild instead.)
import { register } from 'tsx/esm/api';

register();
await import('../run.ts');
