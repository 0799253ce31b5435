// The household's first hour (issue 18), run by tests/e2e/test_journey.py:
//   SUBTITLER_URL  a fresh daemon (fresh data dir, its worker pool running)
//   LIBRARY_DIR    a small library: two English videos, one with the user's own .en.srt
//   SHOTS_DIR      screenshots
//   CHROMIUM       the browser (default /usr/bin/chromium)
// Every wizard default is left untouched (only the library folder is chosen): Finish must work,
// the first scan runs and shows its progress, the jobs complete, the Library shows the files Done
// live (no reload) and the Done filter counts them; the user's English subtitle shows as present
// and "Subtitle now" asks before writing a second one.
import { createRequire } from 'node:module'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const require = createRequire(new URL('../../frontend/package.json', import.meta.url))
const { chromium } = require('playwright-core')

const BASE = process.env.SUBTITLER_URL
const SHOTS = process.env.SHOTS_DIR
const LIBRARY = process.env.LIBRARY_DIR
if (!BASE || !SHOTS || !LIBRARY) {
  console.error('SUBTITLER_URL, SHOTS_DIR and LIBRARY_DIR are required')
  process.exit(2)
}
mkdirSync(SHOTS, { recursive: true })
const profile = mkdtempSync(join(tmpdir(), 'subtitler-e2e-journey-'))
const context = await chromium.launchPersistentContext(profile, {
  viewport: { width: 1280, height: 900 },
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
})
const page = context.pages()[0] ?? (await context.newPage())
page.setDefaultTimeout(30000)
const problems = []
page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
const step = (s) => console.log(`[journey] ${s}`)
async function shot(name) {
  await page.waitForTimeout(200)
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}
async function api(path) {
  const res = await fetch(BASE + path)
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return res.json()
}
const AXE = require.resolve('axe-core/axe.min.js')
// axe-core on what is on screen (a dialog and the page behind it): no serious or critical violation
async function axe(name) {
  await page.addScriptTag({ path: AXE })
  const found = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] })
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`)
  })
  if (found.length) throw new Error(`axe on ${name}:\n  ${found.join('\n  ')}`)
}
const row = (name) => page.locator(`[data-testid=library-table] tr[data-path$="/${name}"]`)

try {
  step('a fresh data dir opens the wizard')
  await page.goto(BASE + '/')
  await page.waitForURL('**/setup')
  await page.getByTestId('mode-standalone').click()

  step('the library folder is the only choice made')
  await page.getByTestId('add-folder').click()
  const chooser = page.getByRole('dialog', { name: 'Choose a folder' })
  await chooser.getByLabel('Path').fill(LIBRARY)
  await chooser.getByRole('button', { name: 'Go' }).click()
  await chooser.getByTestId('select-folder').click()
  await page.locator('.pathlist code', { hasText: LIBRARY }).waitFor()
  for (const s of ['step-rule', 'step-workers', 'step-schedule', 'step-connections']) {
    await page.getByTestId('wizard-next').click()
    await page.getByTestId(s).waitFor() // every default untouched
  }
  await shot('journey-wizard-last-step')

  step('Finish with every default: no error, the first scan runs and shows its progress')
  await page.getByTestId('wizard-finish').click()
  await page.getByTestId('first-scan-progress').waitFor()
  await page.getByTestId('first-scan-result').filter({ hasText: '3 files found, 2 matched your rules, 2 jobs queued.' }).waitFor({ timeout: 120000 })
  await shot('journey-first-scan')
  const status = await api('/api/setup/status')
  if (status.is_first_run || status.mode !== 'standalone') throw new Error(`setup not completed: ${JSON.stringify(status)}`)
  const workers = await api('/api/workers')
  if (workers.filter((w) => w.worker_type === 'cpu').length !== 1) throw new Error(`wizard default of 1 CPU worker not applied: ${workers.length}`)

  step('the Library follows the jobs live until both files are Done')
  await page.getByRole('button', { name: 'Open the Library' }).click()
  await page.getByRole('heading', { level: 1, name: 'Library' }).waitFor()
  for (const name of ['news.mkv', 'weather.mkv']) {
    await row(name).getByTestId('verdict').filter({ hasText: 'Done' }).waitFor({ timeout: 300000 })
    await row(name).locator('.chip.k-ours', { hasText: 'eng' }).waitFor()
  }
  await shot('journey-library-done')

  step('the Done filter counts them, and lives in the URL')
  await page.getByTestId('lib-filter-done').click()
  await page.getByTestId('library-pageinfo').filter({ hasText: '· 2 files' }).waitFor()
  await page.waitForURL('**/library?status=done')
  await page.reload()
  await page.getByTestId('library-pageinfo').filter({ hasText: '· 2 files' }).waitFor()
  if ((await page.getByTestId('lib-filter-done').getAttribute('aria-pressed')) !== 'true') throw new Error('the Done filter was not restored from the URL')
  await page.getByTestId('lib-filter-all').click()
  await page.getByTestId('library-pageinfo').filter({ hasText: '· 3 files' }).waitFor()

  step("the user's own English subtitle shows as present; Subtitle now asks first")
  const users = row('users.mkv')
  await users.locator('.chip.k-external', { hasText: 'eng' }).waitFor()
  await users.getByTestId('subtitle-now').click()
  await page.getByTestId('subtitle-dialog').waitFor()
  await page.getByTestId('subtitle-go').click()
  await page.getByTestId('subtitle-exists').filter({ hasText: 'users.mkv already has a subtitle in English (beside it)' }).waitFor()
  await page.getByTestId('subtitle-anyway').waitFor()
  await shot('journey-subtitle-asks')
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click()
  const jobs = (await api('/api/jobs')).jobs
  if (jobs.some((j) => j.file_name === 'users.mkv')) throw new Error('a job was queued for users.mkv without asking')
  if (jobs.filter((j) => j.status === 'completed').length !== 2) throw new Error(`jobs: ${JSON.stringify(jobs.map((j) => [j.file_name, j.status]))}`)

  step('History lists what we wrote; Redo offers the presets and queues nothing until asked')
  await page.goto(BASE + '/history')
  const written = page.locator('[data-testid=history-table] tbody tr[data-subtitle-id]')
  await written.nth(1).waitFor()
  await written.first().getByRole('button', { name: 'Redo' }).click()
  const redo = page.locator('dialog[open]').filter({ has: page.getByRole('heading', { level: 2, name: 'Redo with another preset' }) })
  await redo.getByRole('combobox', { name: 'Quality preset' }).waitFor()
  await shot('journey-history-redo')
  await axe('the History page with its Redo dialog')
  await redo.getByRole('button', { name: 'Cancel' }).click()
  await redo.waitFor({ state: 'hidden' })
  if ((await api('/api/jobs')).jobs.length !== 2) throw new Error('Cancel in the Redo dialog queued a job')

  step('an unknown address shows the not-found page')
  await page.goto(BASE + '/no/such/page')
  await page.getByTestId('not-found').waitFor()

  if (problems.length) throw new Error(`page errors:\n  ${problems.join('\n  ')}`)
  step('ok')
} catch (e) {
  await shot('journey-failure').catch(() => {})
  console.error(String(e?.stack || e))
  process.exitCode = 1
} finally {
  await context.close()
}
