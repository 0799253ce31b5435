// End-to-end: drives Debian's Chromium (playwright-core) through the web UI of a running
// `subtitler serve`. Run by tests/e2e/test_ui.py; reads its inputs from the environment:
//   SUBTITLER_URL  the daemon, e.g. http://127.0.0.1:8123
//   LIBRARY_DIR    the generated library (news.mkv: English speech; other.mkv: a longer clip)
//   SHOTS_DIR      where a screenshot of every page goes
//   CHROMIUM       the browser (default /usr/bin/chromium)
// Exit status 0 when every step passed; the failing step and the browser's console otherwise.
import { createRequire } from 'node:module'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const require = createRequire(new URL('../../frontend/package.json', import.meta.url))
const { chromium } = require('playwright-core')
const AXE = require.resolve('axe-core/axe.min.js')

const BASE = process.env.SUBTITLER_URL
const LIBRARY = process.env.LIBRARY_DIR
const SHOTS = process.env.SHOTS_DIR
if (!BASE || !LIBRARY || !SHOTS) {
  console.error('SUBTITLER_URL, LIBRARY_DIR and SHOTS_DIR are required')
  process.exit(2)
}
mkdirSync(SHOTS, { recursive: true })
const profile = mkdtempSync(join(tmpdir(), 'subtitler-e2e-chromium-'))

// A fresh profile each run (launchPersistentContext is how playwright takes --user-data-dir).
const context = await chromium.launchPersistentContext(profile, {
  viewport: { width: 1280, height: 900 },
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
  ],
})
const browser = context
const page = context.pages()[0] ?? (await context.newPage())
page.setDefaultTimeout(20000)
const problems = []
page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`))
const requests = []
page.on('request', (r) => requests.push({ t: Date.now(), method: r.method(), url: r.url() }))

let n = 0
async function shot(name, opts = {}, pg = page) {
  n++
  await pg.waitForTimeout(300) // let transitions settle
  await pg.screenshot({ path: join(SHOTS, `${String(n).padStart(2, '0')}-${name}.png`), fullPage: true, ...opts })
}
// axe-core on what is on screen (a dialog and the page behind it) in both themes: no serious or
// critical violation (tests/e2e/pages.spec.mjs covers the other dialogs)
async function axeDialog(name) {
  await page.addScriptTag({ path: AXE })
  for (const theme of ['dark', 'light']) {
    await page.evaluate((th) => (document.documentElement.dataset.theme = th), theme)
    await page.waitForTimeout(150)
    const bad = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ['violations'] })
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`)
    })
    if (bad.length) throw new Error(`axe on dialog ${name} (${theme}):\n  ${bad.join('\n  ')}`)
  }
  await page.evaluate(() => (document.documentElement.dataset.theme = 'dark'))
  console.log(`[e2e] axe dialog ${name}: 0 serious or critical in both themes`)
}
function step(name) {
  console.log(`[e2e] ${name}`)
}
async function nav(label) {
  // Through the app's own links: the SPA (and its event stream) stays loaded.
  const toggle = page.getByRole('button', { name: 'Menu' })
  if (await toggle.isVisible()) await toggle.click()
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: false }).first().click()
  await page.getByRole('heading', { level: 1, name: label }).waitFor()
}
async function expectToast(re) {
  await page.getByTestId('toast').filter({ hasText: re }).first().waitFor()
}
async function api(path, init) {
  const res = await fetch(BASE + path, init)
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return res.json()
}

try {
  // ---------------------------------------------------------------- wizard
  step('first run opens the wizard')
  await page.goto(BASE + '/')
  await page.waitForURL('**/setup')
  await page.getByRole('heading', { name: 'Welcome to subtitler' }).waitFor()
  await page.getByTestId('allowed-hosts-hint').filter({ hasText: 'SUBTITLER_ALLOWED_HOSTS' }).waitFor()
  await page.getByTestId('live-state').filter({ hasText: 'Live' }).waitFor()
  await shot('setup-choose')

  step('standalone: library folder through the path browser')
  await page.getByTestId('mode-standalone').click()
  await page.getByTestId('add-folder').click()
  const browserDialog = page.getByRole('dialog', { name: 'Choose a folder' })
  await browserDialog.getByLabel('Path').fill(LIBRARY)
  await browserDialog.getByRole('button', { name: 'Go' }).click()
  await browserDialog.getByRole('button', { name: /Movies/ }).waitFor()
  await shot('setup-path-browser')
  await browserDialog.getByTestId('select-folder').click()
  await page.locator('.pathlist code', { hasText: LIBRARY }).waitFor()
  await shot('setup-library')
  await page.getByTestId('wizard-next').click()

  step('standalone: first rule, workers, schedule')
  await page.getByTestId('step-rule').waitFor()
  await page.getByLabel('Rule name').fill('English audio gets English subtitles')
  await page.getByLabel('When the audio is').selectOption({ label: 'English' })
  await page.getByLabel('Write subtitles in').selectOption({ label: 'English' })
  await shot('setup-rule')
  await page.getByTestId('wizard-next').click()
  await page.getByTestId('step-workers').waitFor()
  await page.getByLabel('How many').fill('1')
  await shot('setup-workers')
  await page.getByTestId('wizard-next').click()
  await page.getByTestId('step-schedule').waitFor()
  await page.getByLabel(/Scan the library every/).fill('720')
  await page.getByText('Scans every 12 hours.').waitFor()
  // This run starts the scan itself later (Scanner page); tests/e2e/pages.spec.mjs follows the
  // wizard's first scan.
  await page.getByTestId('first-scan').uncheck()
  await shot('setup-schedule')
  await page.getByTestId('wizard-next').click()
  step('standalone: connections (copy the Sonarr URL)')
  await page.getByTestId('step-connections').waitFor()
  await page.getByTestId('choose-sonarr').check()
  const sonarrUrl = await page.locator('#hook-sonarr').inputValue()
  const hookKey = process.env.SUBTITLER_API_KEY // write-only in /api/settings
  if (!sonarrUrl.endsWith('/api/webhooks/sonarr?apikey=' + hookKey)) throw new Error(`wrong Sonarr URL ${sonarrUrl}`)
  await shot('setup-connections')
  await page.getByTestId('wizard-finish').click()
  await page.waitForURL(BASE + '/')
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor()
  const setupStatus = await api('/api/setup/status')
  if (setupStatus.is_first_run) throw new Error('the wizard did not complete the setup')

  // ---------------------------------------------------------------- workers
  step('workers: start the pool with one CPU worker')
  await nav('Workers')
  await page.getByLabel('CPU workers').fill('1')
  await page.getByTestId('pool-start').click()
  await expectToast(/started/i)
  await page.locator('[data-worker]').first().waitFor()
  await page.locator('[data-worker="worker-cpu-0"] .badge', { hasText: 'idle' }).waitFor({ timeout: 60000 })
  await shot('workers')
  step('workers: add a second CPU worker and remove it')
  await page.getByTestId('add-worker').click()
  await expectToast(/Added/)
  await page.locator('[data-worker]').nth(1).waitFor()
  const second = page.locator('[data-worker]').nth(1)
  const secondId = await second.getAttribute('data-worker')
  await second.getByRole('button', { name: 'Remove' }).click()
  await page.getByRole('dialog', { name: 'Remove worker?' }).waitFor()
  await axeDialog('remove worker')
  await page.getByRole('dialog', { name: 'Remove worker?' }).getByRole('button', { name: 'Remove' }).click()
  await page.locator(`[data-worker="${secondId}"]`).waitFor({ state: 'detached', timeout: 60000 })

  // ---------------------------------------------------------------- rules
  step('rules: the wizard rule is listed; a new rule shows its preview')
  await nav('Rules')
  await page.locator('[data-rule="English audio gets English subtitles"]').waitFor()
  await page.getByTestId('new-rule').click()
  const editor = page.getByTestId('rule-editor')
  await editor.getByLabel('Name').fill('English mkv, balanced')
  await editor.getByRole('spinbutton', { name: /^Priority/ }).fill('5')
  await editor.getByLabel('Audio language is', { exact: true }).selectOption({ label: 'English' })
  await editor.getByLabel(/File extensions/).fill('.mkv')
  await editor.getByLabel('Subtitle language').selectOption({ label: 'English' })
  await editor.getByLabel('Quality').selectOption('balanced')
  await page.getByTestId('preview-summary').filter({ hasText: /2\s+of 2 files/ }).waitFor({ timeout: 60000 })
  await shot('rules-editor-preview')
  await editor.getByRole('button', { name: 'Create rule' }).click()
  await expectToast(/Created/)
  const newRule = page.locator('[data-rule="English mkv, balanced"]')
  await newRule.waitFor()
  step('rules: toggle the new rule off (the wizard rule makes the jobs)')
  await newRule.getByRole('checkbox').uncheck()
  await page.locator('[data-rule="English mkv, balanced"].dim').waitFor()
  await shot('rules')
  step('rules: edit shows the saved conditions; delete asks first')
  await newRule.getByRole('button', { name: 'Edit' }).click()
  const edit = page.getByTestId('rule-editor')
  if ((await edit.getByLabel(/File extensions/).inputValue()) !== '.mkv') throw new Error('the editor lost a condition')
  await edit.getByRole('button', { name: 'Cancel' }).click()
  await newRule.getByRole('button', { name: 'Delete' }).click()
  await page.getByRole('dialog', { name: 'Delete rule?' }).waitFor()
  await shot('rules-delete-confirm', { fullPage: false })
  await page.getByTestId('confirm-delete').click()
  await newRule.waitFor({ state: 'detached' })

  // ---------------------------------------------------------------- scanner
  // A second tab on the dashboard: its worker card must follow the job live too.
  const dash = await context.newPage()
  dash.on('pageerror', (e) => problems.push(`dashboard pageerror: ${e.message}`))
  await dash.goto(BASE + '/')
  await dash.getByTestId('dash-worker').first().waitFor()

  // The queue stays open in this tab while another tab runs the scan: jobs must arrive live.
  await nav('Queue')
  const t0 = Date.now()
  // Record every state the queue rows go through (a fast job must not slip between two looks).
  await page.evaluate(() => {
    window.__rows = []
    new MutationObserver(() => {
      for (const tr of document.querySelectorAll('tr[data-job-id]')) {
        const bar = tr.querySelector('[role=progressbar]')
        window.__rows.push([tr.querySelector('button.link')?.textContent?.trim(), tr.dataset.status, Number(bar?.getAttribute('aria-valuenow'))])
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true })
  })
  const ctl = await context.newPage()
  ctl.on('pageerror', (e) => problems.push(`scanner pageerror: ${e.message}`))
  await ctl.goto(BASE + '/scanner')
  await ctl.getByTestId('scanner-status').waitFor()
  step('scanner: a cron schedule, said in words, with its next run')
  await ctl.getByLabel('Cron expression').check()
  await ctl.getByLabel(/^Cron/).fill('30 3 * * *')
  await ctl.getByText('Runs every day at 03:30.').waitFor()
  await ctl.getByRole('button', { name: 'Apply schedule' }).click()
  await ctl.getByTestId('toast').filter({ hasText: /Scheduler/i }).first().waitFor()
  await ctl.getByTestId('next-run').filter({ hasText: /^in / }).waitFor()
  step('scanner: scan now')
  await ctl.getByTestId('scan-now').click()
  await ctl.getByTestId('scan-result').filter({ hasText: /2 job\(s\) created/ }).waitFor({ timeout: 120000 })

  // ---------------------------------------------------------------- queue, live
  step('queue: jobs arrive; one is cancelled, the other completes with live progress')
  const row = (file) => page.locator('tr[data-job-id]', { has: page.locator('button.link', { hasText: file }) })
  await row('news.mkv').waitFor()
  await row('other.mkv').waitFor()
  const other = row('other.mkv')
  if (!['completed', 'failed', 'cancelled'].includes(await other.getAttribute('data-status'))) {
    await other.getByRole('button', { name: 'Cancel' }).click()
    await page.getByRole('dialog', { name: 'Cancel this job?' }).waitFor()
    await page.getByTestId('confirm-cancel').click()
  }
  await page.locator('tr[data-job-id][data-status="cancelled"]', { has: page.locator('button.link', { hasText: 'other.mkv' }) }).waitFor({ timeout: 60000 })
  const news = row('news.mkv')
  const seen = new Set()
  const seenStatus = new Set()
  let shotProcessing = false
  let sawDashboardProgress = false
  const deadline = Date.now() + 240000
  for (;;) {
    const status = await news.getAttribute('data-status')
    seenStatus.add(status)
    const pct = await news.getByRole('progressbar').getAttribute('aria-valuenow')
    seen.add(Number(pct))
    if (status === 'processing' && !shotProcessing && Number(pct) > 0) {
      shotProcessing = true
      // The dashboard first: a short job may be over by the time a screenshot is taken.
      const bar = dash.getByTestId('dash-worker').getByRole('progressbar')
      await bar.waitFor({ timeout: 5000 }).catch(() => {})
      if (await bar.count()) {
        sawDashboardProgress = true
        n++
        await dash.screenshot({ path: join(SHOTS, `${String(n).padStart(2, '0')}-dashboard-processing.png`), fullPage: true }).catch(() => {})
      }
      await shot('queue-processing')
    }
    if (status === 'completed') break
    if (status === 'failed') throw new Error(`the job failed: ${await news.textContent()}`)
    if (Date.now() > deadline) throw new Error(`the job did not complete; last status ${status}`)
    await page.waitForTimeout(150)
  }
  for (const [file, status, pct] of await page.evaluate(() => window.__rows)) {
    if (file !== 'news.mkv') continue
    seenStatus.add(status)
    seen.add(pct)
  }
  const intermediate = [...seen].filter((p) => p > 0 && p < 100)
  console.log(`[e2e] statuses seen ${[...seenStatus].join(' → ')}; progress seen ${[...seen].sort((a, b) => a - b).join(', ')}`)
  if (!seenStatus.has('processing')) throw new Error('never saw the job processing')
  if (intermediate.length === 0) throw new Error('no live progress between 0 and 100 was shown')
  if (shotProcessing && !sawDashboardProgress) throw new Error("the dashboard's worker card never showed the job's progress")
  await dash.close()
  await shot('scanner', {}, ctl)
  await ctl.close()
  const listCalls = requests.filter((r) => r.t >= t0 && /\/api\/jobs(\?|$)/.test(r.url) && r.method === 'GET')
  console.log(`[e2e] GET /api/jobs while watching: ${listCalls.length}`)
  if (listCalls.length > 3) throw new Error(`the queue polled: ${listCalls.length} list requests`)
  await shot('queue')

  step('queue: job detail with output path and log')
  await news.getByRole('button', { name: 'news.mkv' }).click()
  const detail = page.getByRole('dialog', { name: 'news.mkv' })
  await detail.getByTestId('job-detail').getByText(/news\.(en|eng)\.srt/).waitFor()
  await detail.getByTestId('job-log').locator('li', { hasText: /complet/i }).first().waitFor()
  await shot('queue-job-detail')
  await detail.getByRole('button', { name: 'Close' }).click()

  step('queue: filter by status')
  await page.getByTestId('filter-cancelled').click()
  await page.locator('tr[data-job-id]:not([data-status="cancelled"])').first().waitFor({ state: 'detached' })
  await page.locator('tr[data-job-id]').first().waitFor()
  if ((await page.locator('tr[data-job-id]').count()) !== 1) throw new Error('the cancelled filter shows other jobs')
  await shot('queue-filter-cancelled')
  await page.getByTestId('filter-all').click()

  step('queue: new job dialog with the file browser')
  await page.getByTestId('new-job').click()
  const newJob = page.getByRole('dialog', { name: 'New job' })
  await newJob.getByRole('button', { name: 'Browse…' }).click()
  await newJob.getByLabel('Path').fill(join(LIBRARY, 'Movies'))
  await newJob.getByRole('button', { name: 'Go' }).click()
  await newJob.getByRole('button', { name: 'news.mkv' }).click()
  const picked = await newJob.getByLabel('Media file').inputValue()
  if (!picked.endsWith('news.mkv')) throw new Error(`the browser picked ${picked}`)
  await shot('queue-new-job')
  await newJob.getByRole('button', { name: 'Queue job' }).click()
  // The same file, language and task is already completed: the API's 409 detail is toasted.
  await expectToast(/already|exists/i)
  const onTop = await page.evaluate(() => {
    const t = [...document.querySelectorAll('[data-testid=toast]')].at(-1)
    const r = t.getBoundingClientRect()
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
    return { top: t.contains(hit), hit: hit?.outerHTML.slice(0, 80) }
  })
  if (!onTop.top) throw new Error(`the error toast is hidden under the dialog: ${JSON.stringify(onTop)}`)
  await shot('queue-new-job-conflict')
  await newJob.getByRole('button', { name: 'Cancel' }).click()

  // ---------------------------------------------------------------- dashboard
  step('dashboard: counts, workers, resources, failures')
  await nav('Dashboard')
  await page.getByTestId('count-completed').filter({ hasText: '1' }).waitFor()
  await page.getByTestId('count-cancelled').filter({ hasText: '1' }).waitFor()
  await page.locator('.gauge').first().waitFor()
  await page.waitForTimeout(6500) // a few resource samples for the charts
  await shot('dashboard')

  // ---------------------------------------------------------------- connections
  step('connections: a Sonarr Test delivery shows in the delivery log')
  await api('/api/webhooks/sonarr', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ eventType: 'Test', series: { id: 1, title: 'Test Title', path: 'C:\\testpath' }, episodes: [] }),
  })
  await nav('Connections')
  await page.getByTestId('choose-sonarr').waitFor()
  await page.getByTestId('deliveries').getByText('test answered').waitFor()
  await shot('connections')

  // ---------------------------------------------------------------- settings
  step('settings: a bad value shows the API error in place')
  await nav('Settings')
  const interval = page.locator('[data-setting="scanner_interval_minutes"]')
  await interval.getByRole('textbox').fill('not-a-number')
  await interval.getByRole('button', { name: 'Save' }).click()
  // in words, without the setting's code name (the label beside it says which)
  await interval.getByTestId('setting-error').filter({ hasText: /^Expected an integer/ }).waitFor()
  await interval.scrollIntoViewIfNeeded()
  await shot('settings-error', { fullPage: false })
  await interval.getByRole('textbox').fill('600')
  await interval.getByRole('button', { name: 'Save' }).click()
  await interval.getByText('Saved').waitFor()
  await shot('settings')

  // ---------------------------------------------------------------- phone and light theme
  step('phone width and the light theme')
  await page.setViewportSize({ width: 390, height: 844 })
  await nav('Dashboard')
  await shot('phone-dashboard')
  await nav('Queue')
  await shot('phone-queue')
  await page.getByRole('button', { name: 'Menu' }).click()
  await shot('phone-menu', { fullPage: false })
  await page.keyboard.press('Escape')
  await page.setViewportSize({ width: 1280, height: 900 })
  await page.getByRole('button', { name: /Switch to light theme/ }).click()
  await nav('Dashboard')
  await shot('light-dashboard')
  await page.getByRole('button', { name: /Switch to dark theme/ }).click()

  // ---------------------------------------------------------------- Bazarr
  step('wizard again: Bazarr mode shows the endpoint with the key and checks /status')
  await page.getByRole('link', { name: 'Setup wizard' }).click()
  await page.getByTestId('mode-bazarr').click()
  await page.getByRole('button', { name: 'Show the endpoint' }).click()
  const urlWithKey = await page.getByLabel('Endpoint for Bazarr (with the API key)').inputValue()
  const key = process.env.SUBTITLER_API_KEY // write-only in /api/settings
  if (!urlWithKey.includes(`:${key}@`)) throw new Error(`the endpoint ${urlWithKey} does not carry the key`)
  await page.getByTestId('bazarr-check').click()
  await page.getByText(/✓ subtitler/).waitFor()
  await shot('setup-bazarr')

  // ---------------------------------------------------------------- auth
  step('auth: with auth_mode=always the UI asks for the key once and keeps it')
  await api('/api/settings/auth_mode', {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ value: 'always' }),
  })
  await page.goto(BASE + '/workers')
  const keyDialog = page.getByRole('dialog', { name: 'API key required' })
  await keyDialog.getByLabel('API key').fill(key)
  await axeDialog('API key required')
  await shot('auth-prompt', { fullPage: false })
  await keyDialog.getByRole('button', { name: 'Save key' }).click()
  await page.locator('[data-worker]').first().waitFor()
  await page.getByTestId('live-state').filter({ hasText: 'Live' }).waitFor()
  const stored = await page.evaluate(() => localStorage.getItem('subtitler.apiKey'))
  if (stored !== key) throw new Error('the key was not kept')
  await page.reload()
  await page.locator('[data-worker]').first().waitFor()
  if (await keyDialog.isVisible()) throw new Error('asked for the key again')

  if (problems.length) {
    // The browser logs every 4xx answer (the 409, 400 and 401s above are on purpose); any
    // other console error or page error is a bug.
    const real = problems.filter((p) => !/Failed to load resource: .* (400|401|409) /.test(p))
    if (real.length) throw new Error(`browser errors:\n${real.join('\n')}`)
  }
  console.log(`[e2e] ok: ${n} screenshots in ${SHOTS}`)
  await browser.close()
  rmSync(profile, { recursive: true, force: true })
  process.exit(0)
} catch (e) {
  console.error(`[e2e] FAILED: ${e.stack ?? e}`)
  for (const p of problems) console.error(`  ${p}`)
  try {
    await page.screenshot({ path: join(SHOTS, 'failure.png'), fullPage: true })
  } catch {
    /* ignore */
  }
  await browser.close()
  rmSync(profile, { recursive: true, force: true })
  process.exit(1)
}
