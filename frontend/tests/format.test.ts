import { describe, expect, it } from 'vitest'
import { cronError, describeCron, describeInterval, duration, relative, since } from '@/lib/format'
import { languageName, languageNames } from '@/lib/languages'

describe('format', () => {
  it('says cron expressions in words', () => {
    expect(describeCron('0 2 * * *')).toBe('every day at 02:00')
    expect(describeCron('*/15 * * * *')).toBe('every 15 minutes')
    expect(describeCron('30 4 * * 1')).toBe('every Monday at 04:30')
    expect(describeCron('0 */6 * * *')).toBe('every 6 hours at minute 0')
    expect(describeCron('1 2 3 4 5')).toBe('cron "1 2 3 4 5"')
  })
  it('says intervals and durations', () => {
    expect(describeInterval(360)).toBe('every 6 hours')
    expect(describeInterval(1440)).toBe('every day')
    expect(describeInterval(45)).toBe('every 45 minutes')
    expect(duration(75)).toBe('1 min 15 s')
    expect(duration(null)).toBe('—')
  })
  it('reads API times as UTC', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(relative('2026-01-01T00:05:00', now)).toBe('in 5 min')
    expect(relative('2025-12-31T23:00:00+00:00', now)).toBe('1 h ago')
  })
  it('names languages', () => {
    expect(languageName('jpn')).toBe('Japanese')
    expect(languageName('ger')).toBe('German')
    expect(languageName('xyz')).toBe('xyz')
    expect(languageNames('eng,spa')).toBe('English, Spanish')
  })
})

describe('describeSchedule', () => {
  it("reads the scanner's schedule", async () => {
    const { describeSchedule } = await import('@/lib/format')
    expect(describeSchedule('cron: 30 3 * * *')).toBe('every day at 03:30')
    expect(describeSchedule('every 360 minutes')).toBe('every 6 hours')
    expect(describeSchedule('')).toBe('')
  })
})

describe('cron in words', () => {
  it('says what is wrong instead of describing an impossible schedule', () => {
    expect(cronError('61 * * * *')).toMatch(/minute must be 0–59; got 61/)
    expect(describeCron('61 * * * *')).toMatch(/^invalid/)
    expect(cronError('')).toMatch(/Enter a cron expression/)
    expect(cronError('0 2 * *')).toMatch(/5 fields/)
    expect(cronError('*/0 * * * *')).toMatch(/step/)
    expect(cronError('0 2 * * mon-fri')).toBeNull()
    expect(describeCron('0 2 * * *')).toBe('every day at 02:00')
  })

  it('never puts a past moment in the future', () => {
    const later = new Date(Date.now() + 8000).toISOString() // the server's clock is ahead
    expect(since(later, Date.now() - 60000)).toBe('now')
    expect(since(new Date(Date.now() - 3600 * 1000).toISOString())).toBe('1 h ago')
  })
})
