// End-to-end for the Library, History, System and Logs pages (run by tests/e2e/test_pages.py):
//   SUBTITLER_URL  the daemon (set up, first scan done, no worker running, 200 files)
//   LIBRARY_DIR    the library folder
//   SHOTS_DIR      screenshots (phone width for every page) and the downloaded subtitle
//   CHROMIUM       the browser (default /usr/bin/chromium)
//   API_KEY        the daemon's API key as stored (Settings' Show and Copy must give exactly it)
// axe-core runs on every page and every dialog, in both themes: any serious or critical violation
// fails the run. Every page must fit 1280x800 and 1024x768 without a horizontal scrollbar.
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
const API_KEY = process.env.API_KEY
if (!BASE || !SHOTS || !LIBRARY || !API_KEY) {
  console.error('SUBTITLER_URL, SHOTS_DIR, LIBRARY_DIR and API_KEY are required')
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
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE })
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
      .filter((v) => v.impact === 'serious' || v.impact === 'critical' || v.id === 'heading-order')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`)
  })
  if (res.length) throw new Error(`axe on ${name}: ${res.length} serious/critical (or heading order)\n  ${res.join('\n  ')}`)
  console.log(`[pages] axe ${name}: 0 serious or critical`)
}
async function go(path, heading) {
  await page.goto(BASE + path)
  await page.getByRole('heading', { level: 1, name: heading }).waitFor()
}
const rows = () => page.locator('[data-testid=library-table] tbody tr[data-path]')
// axe on what is on screen now (a dialog and the page behind it), in the dark and the light theme
async function axeThemes(name) {
  for (const theme of ['dark', 'light']) {
    await page.evaluate((th) => (document.documentElement.dataset.theme = th), theme)
    await page.waitForTimeout(150)
    await axe(`${name} (${theme})`)
  }
  await page.evaluate(() => (document.documentElement.dataset.theme = 'dark'))
}
const openDialog = (name) => page.locator('dialog[open]').filter({ has: page.getByRole('heading', { level: 2, name }) })
async function dialogAxe(name, title) {
  await openDialog(title).waitFor()
  await page.waitForTimeout(300)
  await axeThemes(`dialog ${name}`)
  await page.keyboard.press('Escape')
  await page.waitForFunction(() => !document.querySelector('dialog[open]'))
}
const PAGES = [['/', 'Dashboard'], ['/library', 'Library'], ['/history', 'History'], ['/queue', 'Queue'], ['/rules', 'Rules'], ['/scanner', 'Scanner'], ['/workers', 'Workers'], ['/connections', 'Connections'], ['/settings', 'Settings'], ['/system', 'System'], ['/logs', 'Logs'], ['/setup', 'Welcome to subtitler']]

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
  await axeThemes('history preview dialog')
  await dialog.getByRole('button', { name: 'Close' }).click()
  // this subtitle was recorded without a job: Redo says why it cannot (tests/e2e/journey.spec.mjs redoes a real one)
  if (!(await hrow.getByRole('button', { name: 'Redo' }).isDisabled())) throw new Error('Redo offered for a subtitle with no job')
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
  await page.getByTestId('wizard-next').click() // to the Connections step (optional)
  // a URL and token typed, the app's own Save never pressed, straight to Finish
  await page.getByTestId('choose-jellyfin').check()
  await page.getByTestId('url-jellyfin').fill('http://192.0.2.10:8096')
  await page.getByTestId('token-jellyfin').fill('jf-secret-token')
  await page.getByTestId('wizard-finish').click()
  await page.getByTestId('first-scan-progress').waitFor()
  await page.getByTestId('first-scan-result').filter({ hasText: /200 files found/ }).waitFor({ timeout: 60000 })
  await shot('setup-first-scan')
  const rules = await (await fetch(BASE + '/api/scan-rules')).json()
  if (rules.length !== 1) throw new Error(`the wizard re-run made ${rules.length} rules`)
  const jfUrl = await (await fetch(BASE + '/api/settings/jellyfin_url')).json()
  if (jfUrl.value !== 'http://192.0.2.10:8096') throw new Error(`the wizard lost the typed Jellyfin URL: ${JSON.stringify(jfUrl)}`)
  const servers = (await (await fetch(BASE + '/api/connections')).json()).servers
  if (!servers.find((x) => x.name === 'jellyfin')?.configured) throw new Error('the wizard lost the typed Jellyfin token')

  // ------------------------------------------------------------------ the other pages: axe
  for (const [path, h] of [['/', 'Dashboard'], ['/queue', 'Queue'], ['/rules', 'Rules'], ['/scanner', 'Scanner'], ['/workers', 'Workers'], ['/connections', 'Connections'], ['/settings', 'Settings'], ['/setup', 'Welcome to subtitler']]) {
    step(`axe: ${path}`)
    await go(path, h)
    await page.waitForTimeout(500)
    await axe(path)
  }

  // ------------------------------------------------------------------ settings: the API key
  step('settings: Show reveals and Copy copies the real API key; Regenerate asks first')
  await go('/settings', 'Settings')
  const keyRow = page.locator('[data-setting=api_key]')
  await keyRow.getByTestId('show-api-key').click()
  await page.waitForFunction((k) => document.querySelector('[data-testid=api-key-value]')?.value === k, API_KEY)
  if ((await keyRow.getByTestId('api-key-value').getAttribute('type')) !== 'text') throw new Error('Show did not reveal the key')
  await page.evaluate(() => navigator.clipboard.writeText('nothing yet'))
  await keyRow.getByTestId('copy-api-key').click()
  await page.getByTestId('toast').filter({ hasText: 'API key copied' }).first().waitFor()
  const copied = await page.evaluate(() => navigator.clipboard.readText())
  if (copied !== API_KEY) throw new Error(`Copy put ${JSON.stringify(copied)} on the clipboard, not the key`)
  // the copied key works against the API: a client that is not on the LAN (an unknown address
  // behind an untrusted proxy header) needs it, and a wrong one is refused
  const remote = (key) => fetch(BASE + '/api/jobs?page_size=1', { headers: { 'X-Forwarded-For': '203.0.113.9', 'X-Api-Key': key } })
  if ((await remote(copied)).status !== 200) throw new Error('the copied key does not work against the API')
  if ((await remote(copied + 'x')).status !== 401) throw new Error('a wrong key was accepted')
  await keyRow.getByTestId('regenerate-api-key').click()
  await dialogAxe('regenerate API key', 'Make a new API key?')
  const still = await (await remote(API_KEY)).status
  if (still !== 200) throw new Error('closing the Regenerate question changed the key')
  await page.locator('[data-setting=library_paths]').getByTestId('browse-library_paths').click()
  await openDialog('Choose a folder').getByTestId('path-browser').waitFor()
  await dialogAxe('settings folder browser', 'Choose a folder')
  const everyday = await page.locator('form.setting').count()
  await page.getByTestId('settings-advanced').check()
  await page.waitForFunction((n) => document.querySelectorAll('form.setting').length > n * 2, everyday)
  await axeThemes('/settings with advanced settings')
  await page.getByTestId('settings-advanced').uncheck()
  const firstShown = await page.locator('form.setting').first().getAttribute('data-setting')
  if (firstShown !== 'library_paths') throw new Error(`Settings opens on ${firstShown}, not the library folders`)

  // ------------------------------------------------------------------ every dialog: axe
  step('dialogs: axe-core in both themes')
  await go('/rules', 'Rules')
  await page.getByTestId('new-rule').click()
  await openDialog('New rule').getByTestId('preview-summary').waitFor({ timeout: 30000 })
  await dialogAxe('New rule', 'New rule')
  await page.getByTestId('rules-table').getByRole('button', { name: 'Edit' }).first().click()
  await openDialog(/^Edit/).getByTestId('preview-summary').waitFor({ timeout: 30000 })
  await dialogAxe('Edit rule', /^Edit/)
  await page.getByTestId('rules-table').getByRole('button', { name: 'Delete' }).first().click()
  await dialogAxe('delete rule', /Delete/)

  await go('/queue', 'Queue')
  await page.getByTestId('new-job').click()
  await openDialog('New job').getByRole('button', { name: 'Browse' }).click()
  await openDialog('New job').getByTestId('path-browser').waitFor()
  await dialogAxe('New job', 'New job')
  const queued = page.locator('[data-testid=jobs-table] tbody tr[data-status=queued]').first()
  await queued.locator('.link.name').click()
  await page.getByTestId('job-detail').waitFor()
  await dialogAxe('job detail', /\.mkv$/)
  await queued.getByRole('button', { name: 'Cancel' }).click()
  await dialogAxe('cancel job', /Cancel/)
  await page.getByLabel('Select every job on this page').check()
  await page.getByRole('region', { name: /selected/ }).getByRole('button', { name: /Cancel/ }).click()
  await dialogAxe('cancel selected jobs', /Cancel/)
  await page.getByLabel('Select every job on this page').uncheck()

  await go('/history', 'History')
  const hfirst = page.locator('[data-testid=history-table] tbody tr[data-subtitle-id]').first()
  await hfirst.getByRole('button', { name: 'Preview' }).click()
  await openDialog(/Preview of/).getByTestId('cue-list').getByText('Here is the news.').waitFor()
  await dialogAxe('subtitle preview', /Preview of/)
  await hfirst.getByRole('button', { name: 'Delete' }).click()
  await dialogAxe('delete subtitle', /Delete/)

  await go('/library', 'Library')
  await page.getByTestId('library-search').fill('Film 09')
  await page.getByTestId('library-pageinfo').filter({ hasText: '· 1 files' }).waitFor()
  await page.getByLabel('Group by folder').check()
  await page.locator('[data-testid=library-table] tr.group-row').first().getByRole('button').click()
  await openDialog(/Ignore/).waitFor()
  await page.waitForTimeout(300)
  await axeThemes('dialog ignore folder')
  await openDialog(/Ignore/).locator('footer button.danger').click()
  await page.waitForFunction(() => !document.querySelector('dialog[open]'))
  await page.getByTestId('library-search').fill('')
  await page.getByTestId('lib-filter-ignored').click()
  await page.locator('[data-testid=library-table] tr.dim[data-path]').first().waitFor({ timeout: 15000 })
  await axeThemes('/library with ignored (dimmed) files')
  await page.getByTestId('lib-filter-all').click()

  await go('/setup', 'Welcome to subtitler')
  await page.getByTestId('mode-standalone').click()
  await page.getByTestId('add-folder').click()
  await dialogAxe('wizard folder browser', 'Choose a folder')

  // ------------------------------------------------------------------ fit real screens
  step('fit: every page at 1280x800 and 1024x768 without a horizontal scrollbar')
  const misfits = []
  for (const [w, hgt] of [[1280, 800], [1024, 768]]) {
    await page.setViewportSize({ width: w, height: hgt })
    for (const [path, h] of PAGES) {
      await go(path, h)
      await page.waitForTimeout(500)
      const fit = await page.evaluate(() => {
        const out = []
        const doc = document.documentElement
        if (doc.scrollWidth > innerWidth) out.push(`page ${doc.scrollWidth}px wide`)
        for (const wrap of document.querySelectorAll('.table-wrap')) {
          if (wrap.scrollWidth > wrap.clientWidth + 1) out.push(`${wrap.querySelector('table')?.dataset.testid ?? 'a table'} scrolls (${wrap.scrollWidth} > ${wrap.clientWidth})`)
        }
        for (const b of document.querySelectorAll('.row-actions button')) {
          const r = b.getBoundingClientRect()
          if (r.width && r.right > Math.min(innerWidth, b.closest('.table-wrap')?.getBoundingClientRect().right ?? innerWidth) + 1) out.push(`"${b.textContent.trim()}" is cut off`)
        }
        for (const tr of document.querySelectorAll('[data-testid=jobs-table] tbody tr[data-job-id]')) {
          if (tr.getBoundingClientRect().height > 120) out.push(`a queue row is ${Math.round(tr.getBoundingClientRect().height)}px tall`)
        }
        return [...new Set(out)]
      })
      if (fit.length) misfits.push(`${w}x${hgt} ${path}: ${fit.join('; ')}`)
      if (['/queue', '/library'].includes(path)) await shot(`fit-${w}-${path.slice(1)}`)
    }
  }
  if (misfits.length) throw new Error(`pages that do not fit:\n  ${misfits.join('\n  ')}`)
  await page.setViewportSize({ width: 1280, height: 900 })

  step('axe in the light theme')
  await page.evaluate(() => localStorage.setItem('subtitler.theme', 'light'))
  for (const [path, h] of PAGES) {
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
