import { vi } from 'vitest'

export interface Call {
  url: string
  method: string
  headers: Record<string, string>
  body: unknown
}

/** A fetch stand-in: `routes` maps "METHOD /path" (query ignored) to [status, body]. */
export function mockFetch(routes: Record<string, [number, unknown] | ((c: Call) => [number, unknown])>) {
  const calls: Call[] = []
  const fn = vi.fn(async (input: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET'
    const path = input.split('?')[0]
    const call: Call = {
      url: input,
      method,
      headers: (init.headers ?? {}) as Record<string, string>,
      body: init.body ? JSON.parse(String(init.body)) : undefined,
    }
    calls.push(call)
    const route = routes[`${method} ${path}`]
    if (!route) return new Response(JSON.stringify({ detail: 'Not found' }), { status: 404 })
    const [status, body] = typeof route === 'function' ? route(call) : route
    return new Response(body === undefined ? '' : JSON.stringify(body), { status })
  })
  vi.stubGlobal('fetch', fn)
  return calls
}

export function job(over: Record<string, unknown> = {}) {
  return {
    id: 'j1',
    file_path: '/media/a.mkv',
    file_name: 'a.mkv',
    job_type: 'transcription',
    status: 'queued',
    priority: 0,
    source_lang: null,
    source_lang_confidence: null,
    target_lang: 'eng',
    quality_preset: 'fast',
    transcribe_or_translate: 'transcribe',
    is_manual_request: false,
    progress: 0,
    current_stage: null,
    eta_seconds: null,
    created_at: '2026-01-01T00:00:00Z',
    started_at: null,
    completed_at: null,
    output_path: null,
    output_format: null,
    segments_count: null,
    error: null,
    error_code: null,
    retry_count: 0,
    recovered_count: 0,
    worker_id: null,
    node_id: null,
    vram_used_mb: null,
    processing_time_seconds: null,
    model_used: null,
    device_used: null,
    speech_detected: null,
    speech_ratio: null,
    ...over,
  }
}

export function worker(over: Record<string, unknown> = {}) {
  return {
    worker_id: 'worker-cpu-0',
    worker_type: 'cpu',
    device_id: null,
    status: 'idle',
    current_job_id: null,
    current_stage: null,
    jobs_completed: 0,
    jobs_failed: 0,
    uptime_seconds: 1,
    current_job_progress: null,
    current_job_eta: null,
    pid: 1,
    error: null,
    ...over,
  }
}

export const flush = () => new Promise((r) => setTimeout(r, 0))
