// The daemon's server-sent events (/api/events) with automatic reconnect. The browser's
// EventSource retries by itself after a dropped connection; when it gives up (an HTTP error, the
// daemon restarting) we open a new one with a growing delay. After every reconnect `onOpen(true)`
// lets the stores re-read what they may have missed.

export const EVENT_TYPES = [
  'job_created',
  'job_updated',
  'jobs_cleared',
  'job_deleted',
  'worker_added',
  'worker_removed',
  'setting_updated',
  'scan_started',
  'scan_finished',
  'library_updated',
  'model_download',
] as const
export type EventType = (typeof EVENT_TYPES)[number]
export type EventHandler = (type: EventType, data: Record<string, unknown>) => void

export interface LiveEventsOptions {
  /** The stream's URL, asked before every (re)connect: it may fetch a fresh stream token. */
  url: () => string | Promise<string>
  onEvent: EventHandler
  onOpen?: (reconnected: boolean) => void
  onState?: (state: 'connecting' | 'open' | 'reconnecting') => void
  EventSourceImpl?: typeof EventSource
  minDelayMs?: number
  maxDelayMs?: number
}

export class LiveEvents {
  private source: EventSource | null = null
  private timer: ReturnType<typeof setTimeout> | null = null
  private attempts = 0
  private everOpened = false
  private stopped = true

  constructor(private opts: LiveEventsOptions) {}

  start() {
    this.stopped = false
    this.open()
  }

  stop() {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.source?.close()
    this.source = null
  }

  /** Drop the connection and open a new one now (e.g. with a new API key). */
  restart() {
    this.stop()
    this.start()
  }

  private open() {
    this.opts.onState?.(this.everOpened ? 'reconnecting' : 'connecting')
    const failed = () => {
      if (this.stopped) return
      this.opts.onState?.('reconnecting')
      this.schedule()
    }
    let url: string | Promise<string>
    try {
      url = this.opts.url()
    } catch {
      failed()
      return
    }
    if (typeof url === 'string') this.connect(url)
    else url.then((u) => !this.stopped && this.connect(u), failed)
  }

  private connect(url: string) {
    const Impl = this.opts.EventSourceImpl ?? EventSource
    this.source?.close()
    const src = new Impl(url)
    this.source = src
    src.onopen = () => {
      const reconnected = this.everOpened
      this.everOpened = true
      this.attempts = 0
      this.opts.onState?.('open')
      this.opts.onOpen?.(reconnected)
    }
    src.onerror = () => {
      if (this.stopped || src !== this.source) return
      this.opts.onState?.('reconnecting')
      // CONNECTING: the browser retries by itself. CLOSED: it gave up (an expired token is a 401,
      // which closes it); we retry with a new token.
      if (src.readyState === 2) {
        src.close()
        this.source = null
        this.schedule()
      }
    }
    for (const type of EVENT_TYPES) {
      src.addEventListener(type, (ev) => {
        let data: Record<string, unknown> = {}
        try {
          data = JSON.parse((ev as MessageEvent).data)
        } catch {
          /* ignore a malformed payload */
        }
        this.opts.onEvent(type, data)
      })
    }
  }

  private schedule() {
    const min = this.opts.minDelayMs ?? 1000
    const max = this.opts.maxDelayMs ?? 15000
    const delay = Math.min(max, min * 2 ** this.attempts)
    this.attempts++
    this.timer = setTimeout(() => {
      this.timer = null
      if (!this.stopped) this.open()
    }, delay)
  }
}
