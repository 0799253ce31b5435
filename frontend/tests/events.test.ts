import { afterEach, describe, expect, it, vi } from 'vitest'
import { LiveEvents } from '@/api/events'

class FakeSource {
  static all: FakeSource[] = []
  readyState = 0
  onopen: (() => void) | null = null
  onerror: (() => void) | null = null
  listeners: Record<string, ((e: MessageEvent) => void)[]> = {}
  closed = false
  constructor(public url: string) {
    FakeSource.all.push(this)
  }
  addEventListener(type: string, fn: (e: MessageEvent) => void) {
    ;(this.listeners[type] ??= []).push(fn)
  }
  close() {
    this.closed = true
    this.readyState = 2
  }
  open() {
    this.readyState = 1
    this.onopen?.()
  }
  emit(type: string, data: unknown) {
    for (const fn of this.listeners[type] ?? []) fn({ data: JSON.stringify(data) } as MessageEvent)
  }
  fail(closed: boolean) {
    this.readyState = closed ? 2 : 0
    this.onerror?.()
  }
}

afterEach(() => {
  FakeSource.all = []
  vi.useRealTimers()
})

describe('LiveEvents', () => {
  it('delivers typed events and reconnects when the browser gives up', () => {
    vi.useFakeTimers()
    const got: [string, unknown][] = []
    const opened: boolean[] = []
    const states: string[] = []
    const live = new LiveEvents({
      url: () => '/api/events?token=t1',
      onEvent: (t, d) => got.push([t, d]),
      onOpen: (r) => opened.push(r),
      onState: (s) => states.push(s),
      EventSourceImpl: FakeSource as unknown as typeof EventSource,
      minDelayMs: 100,
    })
    live.start()
    const first = FakeSource.all[0]
    expect(first.url).toBe('/api/events?token=t1')
    first.open()
    first.emit('job_updated', { id: 'j1', progress: 10 })
    expect(got).toEqual([['job_updated', { id: 'j1', progress: 10 }]])

    first.fail(false) // the browser retries by itself
    expect(FakeSource.all).toHaveLength(1)
    first.fail(true) // it gave up: we open a new one after a delay
    expect(FakeSource.all).toHaveLength(1)
    vi.advanceTimersByTime(100)
    expect(FakeSource.all).toHaveLength(2)
    FakeSource.all[1].fail(true)
    vi.advanceTimersByTime(150)
    expect(FakeSource.all).toHaveLength(2) // backing off: 200 ms now
    vi.advanceTimersByTime(50)
    expect(FakeSource.all).toHaveLength(3)
    FakeSource.all[2].open()
    expect(opened).toEqual([false, true]) // the stores re-read after a reconnect
    expect(states.at(-1)).toBe('open')
    live.stop()
    expect(FakeSource.all[2].closed).toBe(true)
  })

  it('asks for a fresh URL (stream token) before every connect, and retries when that fails', async () => {
    vi.useFakeTimers()
    let n = 0
    const live = new LiveEvents({
      url: async () => {
        n++
        if (n === 2) throw new Error('token refused')
        return `/api/events?token=t${n}`
      },
      onEvent: () => {},
      EventSourceImpl: FakeSource as unknown as typeof EventSource,
      minDelayMs: 100,
    })
    live.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(FakeSource.all.map((s) => s.url)).toEqual(['/api/events?token=t1'])
    FakeSource.all[0].fail(true)
    await vi.advanceTimersByTimeAsync(100) // the token call fails: no stream, back off
    expect(FakeSource.all).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(200)
    expect(FakeSource.all.map((s) => s.url)).toEqual(['/api/events?token=t1', '/api/events?token=t3'])
    expect(FakeSource.all[1].url).not.toContain('apikey')
    live.stop()
  })
})
