/**
 * The digest e-mail and the report page in a real browser: Debian's Chromium, headless, driven by playwright-core.
 * No console error (a Content-Security-Policy violation is one), the key facts in the rendered DOM, the report's
 * filter, sort and drill-down working, and a screenshot of each under test/.artifacts/ (gitignored) for a person.
 *
 * Without Chromium the suite is skipped locally (saying why) and fails under CI=true.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../shared/adapters/store/sqlite-store.ts';
import {
  type BuiltDigest,
  buildDigest,
  renderMspDigest,
  renderReport,
  renderTenantDigest,
} from '../../shared/use-cases/build-digest.ts';
import { FIXTURE_TENANTS, fixtureDigestInput, HOSTILE_NAME, writeFixture } from '../support/digest-fixture.ts';

const CHROMIUM = process.env.RELAYWATCH_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI === 'true';
const ARTIFACTS = resolve('test/.artifacts');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

if (!HAVE_CHROMIUM && IN_CI) {
  // CI installs chromium (.ci/run): its absence there is a broken setup, not a reason to skip.
  throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run must apt-get install chromium`);
}

describe.skipIf(!HAVE_CHROMIUM)(
  `digest and report in Chromium (${HAVE_CHROMIUM ? CHROMIUM : `skipped: no ${CHROMIUM}; apt-get install chromium`})`,
  () => {
    let dir: string;
    let context: BrowserContext;
    let built: BuiltDigest;
    const files: Record<string, string> = {};

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'relaywatch-browser-'));
      const store = openSqliteStore({ path: join(dir, 'state.db') });
      try {
        await writeFixture(store);
        built = await buildDigest(
          fixtureDigestInput(store, {
            name: 'Acme <MSP> & Co',
            accentColor: '#7b1fa2',
            contactEmail: 'noc@acme-msp.example',
          }),
        );
      } finally {
        await store.close();
      }
      const contoso = built.tenants.find((t) => t.tenant.id === 'contoso')!;
      const pages = {
        'tenant-digest': renderTenantDigest(contoso, built.meta).html,
        'msp-digest': renderMspDigest(built).html,
        report: renderReport(built),
      };
      for (const [name, html] of Object.entries(pages)) {
        files[name] = join(dir, `${name}.html`);
        await writeFile(files[name], html);
      }
      await mkdir(ARTIFACTS, { recursive: true });
      context = await chromium.launchPersistentContext(join(dir, 'profile'), {
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        viewport: { width: 1100, height: 900 },
        offline: true,
      });
    }, 60_000);

    afterAll(async () => {
      await context?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    async function open(name: string): Promise<{ page: Page; errors: string[] }> {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(files[name]!).href, { waitUntil: 'load' });
      return { page, errors };
    }

    it('renders the per-tenant digest with its facts, the hostile name as text, and no console error', async () => {
      const { page, errors } = await open('tenant-digest');
      const body = (await page.textContent('body')) ?? '';
      expect(body).toContain(`Weekly mail health: ${HOSTILE_NAME}`);
      expect(body).toContain('Went down and recovered: 2 incidents.');
      expect(body).toContain('2 d 6 h');
      expect(body).toContain('<script>alert(1)</script>');
      expect(body).not.toContain('Fabrikam');
      expect(await page.locator('script').count()).toBe(0);
      expect(await page.locator('h1 b').count()).toBe(0);
      const fail = page.locator('td', { hasText: /^FAIL$/ }).first();
      const background = await fail.evaluate(
        (el) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el)
            .backgroundColor,
      );
      expect(background).toBe('rgb(192, 38, 45)');
      await page.screenshot({ path: join(ARTIFACTS, 'tenant-digest.png'), fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
    });

    it('renders the MSP-wide digest with every tenant row and the totals', async () => {
      const { page, errors } = await open('msp-digest');
      const body = (await page.textContent('body')) ?? '';
      expect(body).toContain('3 tenants');
      expect(body).toContain('1 still down');
      for (const t of FIXTURE_TENANTS) expect(body).toContain(t.name);
      expect(body).toContain('Still on Basic auth for SMTP AUTH');
      await page.screenshot({ path: join(ARTIFACTS, 'msp-digest.png'), fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
    });

    it('filters, sorts and drills down in the report page without a CSP violation', async () => {
      const { page, errors } = await open('report');
      const visible = () => page.locator('tr.tenant:visible');
      expect(await visible().count()).toBe(3);
      expect(await page.textContent('#count')).toBe('3 of 3 tenants shown');
      await page.fill('#filter', 'fabri');
      expect(await visible().count()).toBe(1);
      expect(await page.textContent('#count')).toBe('1 of 3 tenants shown');
      await page.fill('#filter', '');
      await page.selectOption('#sort', 'name');
      expect(await visible().first().locator('b').first().textContent()).toBe(HOSTILE_NAME);
      await page.selectOption('#sort', 'attention');
      const row = page.locator('tr.tenant', { hasText: 'Contoso' });
      await row.locator('button.drill').click();
      const detail = page.locator(`#${await row.getAttribute('data-detail')}`);
      expect(await detail.isVisible()).toBe(true);
      const text = (await detail.textContent()) ?? '';
      expect(text).toContain('RCPT TO:<probe@tenant.example>');
      expect(text).toContain('bl7k2m9q');
      expect(await page.locator('svg').count()).toBeGreaterThan(3);
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
    });
  },
);
