import { describe, expect, it } from 'vitest'
import { i18n, loadMessages } from '@/i18n'

describe('i18n', () => {
  it('loads one namespace per locale file and resolves keys through it', () => {
    const messages = loadMessages()
    expect(Object.keys(messages)).toContain('en')
    expect(messages.en).toHaveProperty('common')
    expect(i18n.global.t('common.save')).toBe('Save')
  })
})

describe('formatters speak through the format messages', () => {
  it('durations, cron and intervals in English words', async () => {
    const { describeCron, describeInterval, duration, relative, cronError } = await import('@/lib/format')
    expect(duration(3725)).toBe('1 h 2 min')
    expect(duration(3 * 86400 + 3600)).toBe('3 d 1 h')
    expect(describeCron('0 2 * * 1')).toBe('every Monday at 02:00')
    expect(describeCron('30 */6 * * *')).toBe('every 6 hours at minute 30')
    expect(describeInterval(720)).toBe('every 12 hours')
    expect(cronError('61 * * * *')).toBe('The minute must be 0–59; got 61')
    expect(relative(new Date(Date.now() - 120_000).toISOString())).toBe('2 min ago')
  })
})

describe('keys built at run time', () => {
  it('every navigation entry and pipeline stage has English words', async () => {
    const app = (await import('../src/App.vue?raw')).default as string
    const navKeys = [...app.matchAll(/\{ to: '[^']*', key: '([a-z]+)'/g)].map((m) => m[1])
    expect(navKeys.length).toBeGreaterThan(8)
    for (const key of navKeys) expect(i18n.global.te(`nav.${key}`), `nav.${key}`).toBe(true)
    const stages = ['loading_model', 'extracting_audio', 'reading_subtitle', 'detecting_language',
      'transcribing', 'translating', 'writing', 'finalizing']
    for (const s of stages) expect(i18n.global.te(`queue.stage.${s}`), s).toBe(true)
  })
})

describe('setting labels', () => {
  it('a key without a written label reads as words', async () => {
    const { humanizeKey, settingLabel } = await import('@/lib/settingLabel')
    expect(humanizeKey('db_backup_hours')).toBe('Database backup hours')
    expect(humanizeKey('max_upload_mib')).toBe('Max upload MiB')
    expect(humanizeKey('openai_api_key')).toBe('OpenAI API key')
    const t = i18n.global.t as (k: string) => string
    const te = i18n.global.te as (k: string) => boolean
    expect(settingLabel('api_key', t, te)).toBe(t('settings.label.api_key'))
  })
})
