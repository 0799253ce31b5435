// Models by name in a real browser (run by tests/e2e/test_models_ui.py):
//   SUBTITLER_URL  the daemon, first run, HF_ENDPOINT pointing at a fake hub with the tiny model
//   LIBRARY_DIR    a folder for the wizard's library step
//   SHOTS_DIR      screenshots
// The wizard offers the model that reaches German offline and installs it (progress, then the
// hint turns reachable); System > Models lists it installed and in use; a model the hub does not
// have fails with its reason. axe-core on the wizard step and the System page, both themes.
import { createRequire } from 'node:module'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const require = createRequire(new URL('../../frontend/package.json', import.meta.url))
const { chromium } = require('playwright-core')
const AXE = require.resolve('axe-core/axe.min.js')

const BASE = process.env.SUBTITLER_URL
const SHOTS = process.env.SHOTS_DIR
const LIBRARY = process.env.LIBRARY_DIR
mkdirSync(SHOTS, { recursive: true })
const profile = mkdtempSync(join(tmpdir(), 'subtitler-e2e-models-'))
const context = await chromium.launchPersistentContext(profile, {
  viewport: { width: 1280, height: 900 },
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
})
const page = context.pages()[0] ?? (await context.newPage())
page.setDefaultTimeout(20000)
const problems = []
page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
const step = (s) => console.log(`[models] ${s}`)
const shot = async (name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
async function axe(name) {
  for (const theme of ['dark', 'light']) {
    await page.evaluate((th) => (document.documentElement.dataset.theme = th), theme)
    await page.waitForTimeout(150)
    await page.addScriptTag({ path: AXE })
    const res = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ['violations'] })
      return r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical' || v.id === 'heading-order')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`)
    })
    if (res.length) throw new Error(`axe on ${name} (${theme}): ${res.join('\n  ')}`)
    console.log(`[models] axe ${name} (${theme}): 0 serious or critical`)
  }
}

try {
  step('wizard: German for English audio is not reachable offline: the offer')
  await page.goto(BASE + '/')
  await page.waitForURL('**/setup')
  await page.getByTestId('mode-standalone').click()
  await page.getByTestId('add-folder').click()
  const dialog = page.getByRole('dialog', { name: 'Choose a folder' })
  await dialog.getByLabel('Path').fill(LIBRARY)
  await dialog.getByRole('button', { name: 'Go' }).click()
  await dialog.getByTestId('select-folder').click()
  await page.getByTestId('wizard-next').click()
  await page.getByTestId('step-rule').waitFor()
  await page.getByLabel('When the audio is').selectOption({ label: 'English' })
  await page.getByLabel('Write subtitles in').selectOption('deu')
  const offer = page.getByTestId('model-offer')
  await offer.filter({ hasText: 'nllb-200-distilled-600M' }).waitFor()
  await shot('wizard-offer')
  await axe('wizard offer')
  await page.getByTestId('model-offer-download').click()
  await offer.filter({ hasText: 'is installed' }).waitFor({ timeout: 60000 })
  await page.locator('[data-test=translation-hint]').filter({ hasText: 'ctranslate2 can translate it' }).waitFor()
  await shot('wizard-offer-done')
  step('wizard: finish (the rule asks for German)')
  await page.getByTestId('wizard-next').click()
  await page.getByTestId('step-workers').waitFor()
  await page.getByTestId('wizard-next').click()
  await page.getByTestId('step-schedule').waitFor()
  await page.getByTestId('first-scan').uncheck()
  await page.getByTestId('wizard-next').click()
  await page.getByTestId('step-connections').waitFor()
  await page.getByTestId('wizard-finish').click()
  await page.waitForURL(BASE + '/')

  step('System > Models: installed and in use; a model the hub lacks fails with its reason')
  await page.goto(BASE + '/system')
  await page.getByRole('heading', { level: 1, name: 'System' }).waitFor()
  const panel = page.getByTestId('models-panel')
  const nllb = panel.locator('tr[data-model="nllb-200-distilled-600M"]')
  await nllb.filter({ hasText: 'used by translation provider ctranslate2' }).waitFor()
  if (!(await nllb.getByRole('button', { name: 'Delete nllb-200-distilled-600M' }).isDisabled())) {
    throw new Error('a model in use can be deleted')
  }
  await panel.locator('tr[data-model="tiny.en"]').filter({ hasText: 'installed' }).waitFor()
  const opus = panel.locator('tr[data-model="opus-mt-en-de"]')
  await opus.getByRole('button', { name: 'Download opus-mt-en-de' }).click()
  await opus.filter({ hasText: 'download failed' }).waitFor({ timeout: 30000 })
  await shot('system-models')
  await axe('/system with models')
  if (problems.length) throw new Error(problems.join('\n'))
  step('ok')
} finally {
  await context.close()
  rmSync(profile, { recursive: true, force: true })
}
