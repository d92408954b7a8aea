/**
 * Supply chain: `npm audit --omit=dev --audit-level=high` must report no high or critical advisory for what ships
 * (the runtime dependencies).
 *
 * It runs on every `npm test`. When the registry's audit service cannot be reached or does not answer (offline
 * laptop, a registry mirror without the advisory endpoints), the test passes with a printed notice — except where
 * the audit is required: by default in CI (`CI=true`), or wherever GATEHOUSE_NPM_AUDIT_REQUIRED=true; set it to
 * `false` to run CI against a mirror that offers no audit endpoint (SECURITY.md says what that gives up).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REQUIRED = (process.env.GATEHOUSE_NPM_AUDIT_REQUIRED ?? (process.env.CI === 'true' ? 'true' : 'false')) === 'true';

interface AuditReport {
  metadata?: { vulnerabilities?: Record<string, number>; dependencies?: Record<string, number> | number };
  vulnerabilities?: Record<string, { severity: string; via: unknown[]; fixAvailable: unknown }>;
  error?: { code?: string; summary?: string; detail?: string };
  message?: string;
  statusCode?: number;
}

function runAudit(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['audit', '--omit=dev', '--audit-level=high', '--json'],
      { cwd: REPO_ROOT, timeout: 90_000, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, npm_config_fund: 'false', npm_config_update_notifier: 'false' } },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('supply chain', () => {
  it('npm audit --omit=dev: no high or critical advisory', async () => {
    const { code, stdout, stderr } = await runAudit();
    let report: AuditReport | undefined;
    try {
      report = JSON.parse(stdout) as AuditReport;
    } catch {
      report = undefined;
    }
    const counts = report?.metadata?.vulnerabilities;
    if (!counts) {
      // No report: the audit service was not reached or did not answer (network, mirror, registry error).
      const reason = report?.message ?? report?.error?.summary ?? (stderr.trim().split('\n').slice(-3).join(' | ') || `exit ${String(code)}`);
      console.log(`\nnpm audit could not run: ${reason}${REQUIRED ? '' : ' — not required here (see SECURITY.md), so not a failure'}`);
      expect(REQUIRED, `npm audit is required (CI=true or GATEHOUSE_NPM_AUDIT_REQUIRED=true) but could not run: ${reason}`).toBe(false);
      return;
    }
    const high = (counts.high ?? 0) + (counts.critical ?? 0);
    const findings = Object.entries(report?.vulnerabilities ?? {})
      .filter(([, v]) => v.severity === 'high' || v.severity === 'critical')
      .map(([name, v]) => `${name} (${v.severity})`);
    console.log(`\nnpm audit --omit=dev: ${JSON.stringify(counts)}`);
    expect(findings).toEqual([]);
    expect(high).toBe(0);
  }, 120_000);
});
