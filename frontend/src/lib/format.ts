// Small formatters: durations, dates, relative times, and a cron expression in words.

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—'
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${s % 60 ? `${s % 60} s` : ''}`.trim()
  const h = Math.floor(m / 60)
  if (h < 48) return `${h} h ${m % 60 ? `${m % 60} min` : ''}`.trim()
  return `${Math.floor(h / 24)} d ${h % 24 ? `${h % 24} h` : ''}`.trim()
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
  if (Math.abs(diff) < 5) return 'now'
  return diff > 0 ? `in ${duration(diff)}` : `${duration(-diff)} ago`
}

export function percent(v: number | null | undefined, digits = 0): string {
  return v === null || v === undefined ? '—' : `${v.toFixed(digits)}%`
}

export function bytesMb(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${Math.round(mb)} MB`
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']

function pad(n: string): string {
  return n.padStart(2, '0')
}

const CRON_FIELDS: [string, number, number][] = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 7],
]

/** What is wrong with a 5-field cron expression (null: nothing we can see). */
export function cronError(expr: string | null | undefined): string | null {
  const text = (expr ?? '').trim()
  if (!text) return 'Enter a cron expression, e.g. 0 2 * * * (every day at 02:00)'
  const parts = text.split(/\s+/)
  if (parts.length !== 5) return `A cron expression has 5 fields (minute hour day month weekday); this has ${parts.length}`
  for (let i = 0; i < 5; i++) {
    const [name, lo, hi] = CRON_FIELDS[i]
    for (const piece of parts[i].split(',')) {
      const m = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(piece)
      if (!m) {
        if (i >= 3 && /^[a-z]{3}(-[a-z]{3})?$/i.test(piece)) continue // jan, mon-fri
        return `The ${name} field "${piece}" is not valid`
      }
      for (const n of [m[1], m[2]]) {
        if (n !== undefined && n !== '*' && (+n < lo || +n > hi)) return `The ${name} must be ${lo}–${hi}; got ${n}`
      }
      if (m[3] !== undefined && +m[3] === 0) return `The ${name} step must be at least 1`
    }
  }
  return null
}

/** The common cron shapes in words; anything else is shown as it is (an invalid one says so). */
export function describeCron(expr: string | null | undefined): string {
  if (!expr) return ''
  const problem = cronError(expr)
  if (problem) return `invalid: ${problem}`
  const parts = expr.trim().split(/\s+/)
  const [min, hour, dom, mon, dow] = parts
  const num = /^\d+$/
  const every = /^\*\/(\d+)$/
  if (min === '*' && hour === '*' && dom === '*' && mon === '*' && dow === '*') return 'every minute'
  if (every.test(min) && hour === '*' && dom === '*' && mon === '*' && dow === '*')
    return `every ${min.match(every)![1]} minutes`
  if (num.test(min) && hour === '*' && dom === '*' && mon === '*' && dow === '*')
    return `every hour at minute ${min}`
  if (num.test(min) && every.test(hour) && dom === '*' && mon === '*' && dow === '*')
    return `every ${hour.match(every)![1]} hours at minute ${min}`
  if (num.test(min) && num.test(hour) && mon === '*') {
    const at = `${pad(hour)}:${pad(min)}`
    if (dom === '*' && dow === '*') return `every day at ${at}`
    if (dom === '*' && num.test(dow) && +dow <= 7) return `every ${DAYS[+dow % 7]} at ${at}`
    if (dom === '*' && dow === '1-5') return `weekdays at ${at}`
    if (num.test(dom) && dow === '*') return `on day ${dom} of every month at ${at}`
  }
  return `cron "${expr}"`
}

export function describeInterval(minutes: number | null | undefined): string {
  if (!minutes) return ''
  if (minutes % 1440 === 0) return minutes === 1440 ? 'every day' : `every ${minutes / 1440} days`
  if (minutes % 60 === 0) return minutes === 60 ? 'every hour' : `every ${minutes / 60} hours`
  return minutes === 1 ? 'every minute' : `every ${minutes} minutes`
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
