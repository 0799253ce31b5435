// Small formatters: durations, dates, relative times, and a cron expression in words; every word
// comes from the `format` messages (vue-i18n), dates from the browser's locale.
import { i18n } from '@/i18n'

const t = (key: string, values: Record<string, unknown> = {}): string => i18n.global.t(key, values)

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—'
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return t('format.seconds', { s })
  const m = Math.floor(s / 60)
  if (m < 60) return s % 60 ? t('format.minutesSeconds', { m, s: s % 60 }) : t('format.minutes', { m })
  const h = Math.floor(m / 60)
  if (h < 48) return m % 60 ? t('format.hoursMinutes', { h, m: m % 60 }) : t('format.hours', { h })
  const d = Math.floor(h / 24)
  return h % 24 ? t('format.daysHours', { d, h: h % 24 }) : t('format.days', { d })
}

export function parseDate(value: string | null | undefined): Date | null {
  if (!value) return null
  // The API speaks UTC; a time without a zone is UTC too.
  const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? null : d
}

export function dateTime(value: string | null | undefined): string {
  const d = parseDate(value)
  if (!d) return '—'
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  })
}

/** "in 5 h 3 min", "2 min ago". */
export function relative(value: string | null | undefined, now = Date.now()): string {
  const d = parseDate(value)
  if (!d) return '—'
  const diff = (d.getTime() - now) / 1000
  if (Math.abs(diff) < 5) return t('format.now')
  return diff > 0 ? t('format.in', { d: duration(diff) }) : t('format.ago', { d: duration(-diff) })
}

/** A moment that has passed (a last scan, a last run): never "in 8 s" because the page's clock
 *  (`now`, refreshed now and then) or the browser's is behind the server's. */
export function since(value: string | null | undefined, now = Date.now()): string {
  const d = parseDate(value)
  if (!d) return '—'
  return relative(value, Math.max(now, Date.now(), d.getTime()))
}

export function percent(v: number | null | undefined, digits = 0): string {
  return v === null || v === undefined ? '—' : `${v.toFixed(digits)}%`
}

export function bytesMb(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${Math.round(mb)} MB`
}

function dayName(n: number): string {
  return t(`format.cron.days[${n}]`)
}

function pad(n: string): string {
  return n.padStart(2, '0')
}

const CRON_FIELDS: [string, number, number][] = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['dom', 1, 31],
  ['month', 1, 12],
  ['dow', 0, 7],
]

/** What is wrong with a 5-field cron expression (null: nothing we can see). */
export function cronError(expr: string | null | undefined): string | null {
  const text = (expr ?? '').trim()
  if (!text) return t('format.cron.empty')
  const parts = text.split(/\s+/)
  if (parts.length !== 5) return t('format.cron.fieldCount', { n: parts.length })
  for (let i = 0; i < 5; i++) {
    const [field, lo, hi] = CRON_FIELDS[i]
    const name = t(`format.cron.field.${field}`)
    for (const piece of parts[i].split('format.,')) {
      const m = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(piece)
      if (!m) {
        if (i >= 3 && /^[a-z]{3}(-[a-z]{3})?$/i.test(piece)) continue // jan, mon-fri
        return t('format.cron.badField', { name, piece })
      }
      for (const n of [m[1], m[2]]) {
        if (n !== undefined && n !== '*' && (+n < lo || +n > hi)) return t('format.cron.range', { name, lo, hi, n })
      }
      if (m[3] !== undefined && +m[3] === 0) return t('format.cron.step', { name })
    }
  }
  return null
}

/** The common cron shapes in words; anything else is shown as it is (an invalid one says so). */
export function describeCron(expr: string | null | undefined): string {
  if (!expr) return ''
  const problem = cronError(expr)
  if (problem) return t('format.cron.invalid', { problem })
  const parts = expr.trim().split(/\s+/)
  const [min, hour, dom, mon, dow] = parts
  const num = /^\d+$/
  const every = /^\*\/(\d+)$/
  if (min === '*' && hour === '*' && dom === '*' && mon === '*' && dow === '*') return t('format.cron.everyMinute')
  if (every.test(min) && hour === '*' && dom === '*' && mon === '*' && dow === '*')
    return t('format.cron.everyNMinutes', { n: min.match(every)![1] })
  if (num.test(min) && hour === '*' && dom === '*' && mon === '*' && dow === '*')
    return t('format.cron.everyHourAt', { min })
  if (num.test(min) && every.test(hour) && dom === '*' && mon === '*' && dow === '*')
    return t('format.cron.everyNHoursAt', { n: hour.match(every)![1], min })
  if (num.test(min) && num.test(hour) && mon === '*') {
    const at = `${pad(hour)}:${pad(min)}`
    if (dom === '*' && dow === '*') return t('format.cron.everyDayAt', { at })
    if (dom === '*' && num.test(dow) && +dow <= 7) return t('format.cron.everyWeekdayAt', { day: dayName(+dow % 7), at })
    if (dom === '*' && dow === '1-5') return t('format.cron.weekdaysAt', { at })
    if (num.test(dom) && dow === '*') return t('format.cron.monthlyAt', { dom, at })
  }
  return t('format.cron.raw', { expr })
}

export function describeInterval(minutes: number | null | undefined): string {
  if (!minutes) return ''
  if (minutes % 1440 === 0) return minutes === 1440 ? t('format.interval.day') : t('format.interval.days', { n: minutes / 1440 })
  if (minutes % 60 === 0) return minutes === 60 ? t('format.interval.hour') : t('format.interval.hours', { n: minutes / 60 })
  return minutes === 1 ? t('format.interval.minute') : t('format.interval.minutes', { n: minutes })
}

/** The scanner's schedule as the API states it ("cron: 0 2 * * *", "every 360 minutes"), in words. */
export function describeSchedule(schedule: string | null | undefined): string {
  if (!schedule) return ''
  const cron = /^cron:?\s*(.+)$/i.exec(schedule.trim())
  if (cron) return describeCron(cron[1])
  const every = /^every (\d+) minutes?$/i.exec(schedule.trim())
  if (every) return describeInterval(Number(every[1]))
  return schedule
}
