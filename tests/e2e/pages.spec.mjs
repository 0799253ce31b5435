// End-to-end for the Library, History, System and Logs pages (run by tests/e2e/test_pages.py):
//   SUBTITLER_URL  the daemon (set up, first scan done, no worker running, 200 files)
//   LIBRARY_DIR    the library folder
//   SHOTS_DIR      screenshots (phone width for every page) and the downloaded subtitle
//   CHROMIUM       the browser (default /usr/bin/chromium)
// axe-core runs on every page: any serious or critical violation fails the run.
import { createRequire } from 'node:module'
import { mkdirSync, mkdtempSync, rmSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const require = createRequire(new URL('../../frontend/package.json', import.meta.url))
const { chromium } = require('playwright-core')
const AXE = require.resolve('axe-core/axe.min.js')

const BASE = process.env.SUBTITLER_URL
const SHOTS = process.env.SHOTS_DIR
const LIBRARY = process.env.LIBRARY_DIR
if (!BASE || !SHOTS || !LIBRARY) {
  console.error('SUBTITLER_URL, SHOTS_DIR and LIBRARY_DIR are required')
  process.exit(2)
}
mkdirSync(SHOTS, { recursive: true })
const profile = mkdtempSync(join(tmpdir(), 'subtitler-e2e-pages-'))
const context = await chromium.launchPersistentContext(profile, {
  viewport: { width: 1280, height: 900 },
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  acceptDownloads: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
})
const page = context.pages()[0] ?? (await context.newPage())
page.setDefaultTimeout(20000)
const problems = []
page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`))
const urls = []
page.on('request', (r) => urls.push(r.url()))

const step = (s) => console.log(`[pages] ${s}`)
async function shot(name) {
  await page.waitForTimeout(300)
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}
async function axe(name) {
  await page.addScriptTag({ path: AXE })
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] })
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`)
  })
  if (res.length) throw new Error(`axe on ${name}: ${res.length} serious/critical\n  ${res.join('\n  ')}`)
  console.log(`[pages] axe ${name}: 0 serious or critical`)
}
async function go(path, heading) {
  await page.goto(BASE + path)
  await page.getByRole('heading', { level: 1, name: heading }).waitFor()
}
const rows = () => page.locator('[data-testid=library-table] tbody tr[data-path]')

try {
  // ------------------------------------------------------------------ library
  step('library: 200 files, paged 50 at a time')
  await go('/library', 'Library')
  await page.getByTestId('library-pageinfo').filter({ hasText: 'Page 1 of 4 · 200 files' }).waitFor()
  if ((await rows().count()) !== 50) throw new Error(`page 1 shows ${await rows().count()} rows`)
  const firstOnPage1 = await rows().first().getAttribute('data-path')
  await page.getByTestId('library-next').click()
  await page.getByTestId('library-pageinfo').filter({ hasText: 'Page 2 of 4' }).waitFor()
  await page.waitForFunction((p) => document.querySelector('[data-testid=library-table] tbody tr[data-path]')?.getAttribute('data-path') !== p, firstOnPage1)
  await shot('library')
  await axe('library')

  step('library: search')
  await page.getByTestId('library-search').fill('Show 03 S02E07')
  await page.getByTestId('library-pageinfo').filter({ hasText: '· 1 files' }).waitFor()
  if (!(await rows().first().getAttribute('data-path')).endsWith('Show 03 S02E07.mkv')) throw new Error('search found the wrong file')
  await page.getByTestId('library-search').fill('')
  await page.getByTestId('library-pageinfo').filter({ hasText: '200 files' }).waitFor()

  step('library: filters (wanted, skipped, missing English, has ours)')
  await page.getByTestId('lib-filter-wanted').click()
  await page.getByTestId('library-pageinfo').filter({ hasText: '· 10 files' }).waitFor()
  await page.getByTestId('lib-filter-skipped').click()
  await page.getByTestId('library-pageinfo').filter({ hasText: '· 190 files' }).waitFor()
  await page.getByTestId('lib-filter-all').click()
  await page.getByLabel('Missing subtitles in').selectOption({ label: 'English' })
  // 5 films have an English file beside them, one episode has ours
  await page.getByTestId('library-pageinfo').filter({ hasText: '· 194 files' }).waitFor()
  await page.getByLabel('Missing subtitles in').selectOption({ label: 'Any language' })
  await page.getByTestId('lib-filter-ours').click()
  await page.getByTestId('library-pageinfo').filter({ hasText: '· 1 files' }).waitFor()
  await page.locator('[data-testid=library-table] tr[data-path$="Show 00 S01E01.mkv"] .chip.k-ours').waitFor()
  await shot('library-ours')
  await page.getByTestId('lib-filter-all').click()

  step('library: subtitle now on one file, then on a selection')
  await page.getByTestId('library-search').fill('Show 05 S01E02')
  const target = page.locator('[data-testid=library-table] tr[data-path$="Show 05 S01E02.mkv"]')
  await target.waitFor()
  await page.getByTestId('library-pageinfo').filter({ hasText: '· 1 files' }).waitFor()
  await target.getByTestId('subtitle-now').click()
  // the dialog offers the language (default: the one spoken) and the preset
  await page.getByTestId('subtitle-dialog').waitFor()
  await page.getByTestId('subtitle-go').click()
  await page.getByTestId('toast').filter({ hasText: 'Show 05 S01E02.mkv: queued for a subtitle' }).first().waitFor()
  await target.getByTestId('status-badge').filter({ hasText: 'queued' }).waitFor()
  await page.getByTestId('library-search').fill('Show 06 S01')
  await page.getByTestId('library-pageinfo').filter({ hasText: '· 5 files' }).waitFor()
  await page.getByLabel('Select every file on this page').check()
  await page.getByTestId('lib-selection').filter({ hasText: '5 selected' }).waitFor()
  await page.getByTestId('bulk-subtitle').click()
  await page.getByTestId('toast').filter({ hasText: 'Subtitle now: 5 of 5 files' }).first().waitFor()
  await shot('library-subtitled')

  // ------------------------------------------------------------------ history
  step('history: the subtitle we wrote, its cues, the download')
  await go('/history', 'History')
  const hrow = page.locator('[data-testid=history-table] tbody tr[data-subtitle-id]').first()
  await hrow.waitFor()
  await hrow.getByRole('button', { name: 'Preview' }).click()
  const dialog = page.getByRole('dialog', { name: /Preview of/ })
  await dialog.getByTestId('cue-list').getByText('Here is the news.').waitFor()
  await dialog.getByText('00:00:01,000 → 00:00:02,500').waitFor()
  await shot('history-preview')
  await dialog.getByRole('button', { name: 'Close' }).click()
  const [download] = await Promise.all([page.waitForEvent('download'), hrow.getByTestId('history-download').click()])
  copyFileSync(await download.path(), join(SHOTS, 'download.srt'))
  if (!download.suggestedFilename().endsWith('.srt')) throw new Error(`downloaded ${download.suggestedFilename()}`)
  await shot('history')
  await axe('history')

  // ------------------------------------------------------------------ system
  step('system: jobs queued and no worker running is a warning')
  await go('/system', 'System')
  await page.locator('[data-testid=warnings] li[data-code=no_workers]').waitFor()
  await page.locator('[data-testid=tasks-table] tr[data-task=backup]').getByRole('button', { name: 'Run now' }).click()
  await page.locator('[data-testid=tasks-table] tr[data-task=backup] td').filter({ hasText: /backup written/ }).waitFor({ timeout: 30000 })
  await shot('system')
  await axe('system')

  // ------------------------------------------------------------------ logs
  step("logs: the tail shows the job's lines")
  await go('/logs', 'Logs')
  await page.getByTestId('log-search').fill('Show 05 S01E02')
  await page.getByTestId('log-lines').locator('.logline', { hasText: /job \w+ queued to subtitle .*Show 05 S01E02\.mkv/ }).first().waitFor()
  await page.getByTestId('log-level').selectOption('WARNING')
  await page.waitForTimeout(800)
  const infos = await page.getByTestId('log-lines').locator('.logline.lv-INFO').count()
  if (infos) throw new Error(`level WARNING still shows ${infos} INFO lines`)
  await page.getByTestId('log-level').selectOption('INFO')
  await page.getByTestId('log-search').fill('')
  await page.getByTestId('log-lines').locator('.logline.lv-INFO').first().waitFor()
  await shot('logs')
  await axe('logs')

  // ------------------------------------------------------------------ wizard again
  step('wizard re-run: edits the rule it made (no 409) and shows the first scan')
  await go('/setup', 'Welcome to subtitler')
  await page.getByTestId('mode-standalone').click()
  await page.getByTestId('add-folder').click()
  const browserDialog = page.getByRole('dialog', { name: 'Choose a folder' })
  await browserDialog.getByLabel('Path').fill(LIBRARY)
  await browserDialog.getByRole('button', { name: 'Go' }).click()
  await browserDialog.getByRole('button', { name: /Films/ }).waitFor()
  await browserDialog.getByTestId('select-folder').click()
  await page.getByTestId('wizard-next').click()
  await page.getByLabel('Rule name').fill('Japanese films')
  await page.getByLabel('When the audio is').selectOption({ label: 'Japanese' })
  await page.getByTestId('wizard-next').click()
  await page.getByTestId('wizard-next').click()
  await page.getByTestId('wizard-next').click() // the Connections step (optional)
  await page.getByTestId('wizard-finish').click()
  await page.getByTestId('first-scan-progress').waitFor()
  await page.getByTestId('first-scan-result').filter({ hasText: /200 files found/ }).waitFor({ timeout: 60000 })
  await shot('setup-first-scan')
  const rules = await (await fetch(BASE + '/api/scan-rules')).json()
  if (rules.length !== 1) throw new Error(`the wizard re-run made ${rules.length} rules`)

  // ------------------------------------------------------------------ the other pages: axe
  for (const [path, h] of [['/', 'Dashboard'], ['/queue', 'Queue'], ['/rules', 'Rules'], ['/scanner', 'Scanner'], ['/workers', 'Workers'], ['/settings', 'Settings'], ['/setup', 'Welcome to subtitler']]) {
    step(`axe: ${path}`)
    await go(path, h)
    await page.waitForTimeout(500)
    await axe(path)
  }

  step('axe in the light theme')
  await page.evaluate(() => localStorage.setItem('subtitler.theme', 'light'))
  for (const [path, h] of [['/', 'Dashboard'], ['/library', 'Library'], ['/history', 'History'], ['/queue', 'Queue'], ['/rules', 'Rules'], ['/scanner', 'Scanner'], ['/workers', 'Workers'], ['/settings', 'Settings'], ['/system', 'System'], ['/logs', 'Logs']]) {
    await go(path, h)
    await page.waitForTimeout(400)
    await axe(`${path} (light)`)
  }
  await page.evaluate(() => localStorage.setItem('subtitler.theme', 'dark'))

  // ------------------------------------------------------------------ phone width
  step('phone width: every page')
  await page.setViewportSize({ width: 390, height: 844 })
  for (const [path, h, name] of [['/', 'Dashboard', 'dashboard'], ['/library', 'Library', 'library'], ['/history', 'History', 'history'], ['/queue', 'Queue', 'queue'], ['/rules', 'Rules', 'rules'], ['/scanner', 'Scanner', 'scanner'], ['/workers', 'Workers', 'workers'], ['/settings', 'Settings', 'settings'], ['/system', 'System', 'system'], ['/logs', 'Logs', 'logs'], ['/setup', 'Welcome to subtitler', 'setup']]) {
    await go(path, h)
    await page.waitForTimeout(400)
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    if (width > 400) problems.push(`phone: ${path} is ${width}px wide`)
    await shot(`phone-${name}`)
  }
  step('phone: the menu has a backdrop that closes it')
  await page.getByRole('button', { name: 'Menu' }).click()
  await page.getByTestId('nav-backdrop').waitFor()
  await shot('phone-menu')
  await page.getByTestId('nav-backdrop').click({ position: { x: 370, y: 400 } })
  await page.getByTestId('nav-backdrop').waitFor({ state: 'detached' })

  step('offline: the banner shows while the event stream cannot open')
  await page.setViewportSize({ width: 1280, height: 900 })
  await page.route('**/api/events/token', (route) => route.abort())
  await page.reload()
  await page.getByTestId('offline-banner').waitFor({ timeout: 15000 })
  await shot('offline')
  await page.unroute('**/api/events/token')

  if (urls.some((u) => /[?&]apikey=/i.test(u))) throw new Error('a request carried ?apikey= in its URL')
  if (!urls.some((u) => u.includes('/api/events?token='))) throw new Error('the event stream did not open with a token')
  const real = problems.filter((p) => !/Failed to load resource: (.* (400|401|404|409) |net::ERR_FAILED)/.test(p))
  if (real.length) throw new Error(`browser problems:\n${real.join('\n')}`)
  console.log('[pages] ok')
  await context.close()
  rmSync(profile, { recursive: true, force: true })
  process.exit(0)
} catch (e) {
  console.error(`[pages] FAILED: ${e.stack ?? e}`)
  for (const p of problems) console.error(`  ${p}`)
  try {
    await page.screenshot({ path: join(SHOTS, 'failure.png'), fullPage: true })
  } catch {
    /* ignore */
  }
  await context.close()
  rmSync(profile, { recursive: true, force: true })
  process.exit(1)
}
