/**
 * Profiling target (not part of `npm run bench`): runs one decision case in a tight loop so that
 * `node --cpu-prof --import tsx bench/profile-jwt.ts [jwt-miss|jwt-hit|key-hit]` shows where the time goes.
 */
import { buildDecisionFixture } from './fixture.js';

const which = process.argv[2] ?? 'jwt-miss';
const seconds = Number(process.argv[3] ?? 5);
const f = await buildDecisionFixture();
const decide = which === 'jwt-miss' ? () => f.uncached(f.jwtEvent) : which === 'jwt-hit' ? () => f.cached(f.jwtEvent) : () => f.cached(f.keyEvent);
const end = Date.now() + seconds * 1000;
let n = 0;
while (Date.now() < end) {
  for (let i = 0; i < 1000; i++) await decide();
  n += 1000;
}
console.log(`${which}: ${n} decisions, ${((seconds * 1e6) / n).toFixed(2)} µs each`);
await f.close();
