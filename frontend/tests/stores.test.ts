import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useJobsStore } from '@/stores/jobs'
import { useWorkersStore } from '@/stores/workers'
import { useAuthStore, KEY_STORAGE } from '@/stores/auth'
import { useToastStore } from '@/stores/toast'
import { useSettingsStore } from '@/stores/settings'
import { useResourcesStore } from '@/stores/resources'
import { api, ApiError } from '@/api/client'
import { flush, job, mockFetch, worker } from './helpers'

const STATS = { total_jobs: 1, queued: 1, processing: 0, completed: 0, failed: 0, cancelled: 0 }

beforeEach(() => {
  setActivePinia(createPinia())
  localStorage.clear()
  vi.unstubAllGlobals()
})

describe('jobs store', () => {
  it('adds a created job to the first page and counts it', async () => {
    mockFetch({
      'GET /api/jobs': [200, { jobs: [job()], total: 1, page: 1, page_size: 25 }],
      'GET /api/jobs/stats': [200, STATS],
    })
    const jobs = useJobsStore()
    await Promise.all([jobs.fetchPage(), jobs.fetchStats()])
    jobs.onEvent('job_created', job({ id: 'j2', file_name: 'b.mkv' }))
    expect(jobs.jobs.map((j) => j.id)).toEqual(['j2', 'j1'])
    expect(jobs.total).toBe(2)
    expect(jobs.stats.queued).toBe(2)
    expect(jobs.stats.total_jobs).toBe(2)
  })

  it('does not add a job the status filter hides', async () => {
    mockFetch({ 'GET /api/jobs': [200, { jobs: [], total: 0, page: 1, page_size: 25 }] })
    const jobs = useJobsStore()
    await jobs.setFilter('failed')
    jobs.onEvent('job_created', job({ id: 'j2' }))
    expect(jobs.jobs).toEqual([])
  })

  it('merges live progress and moves the counts when the status changes', async () => {
    mockFetch({
      'GET /api/jobs': [200, { jobs: [job()], total: 1, page: 1, page_size: 25 }],
      'GET /api/jobs/stats': [200, STATS],
    })
    const jobs = useJobsStore()
    await Promise.all([jobs.fetchPage(), jobs.fetchStats()])
    jobs.onEvent('job_updated', { id: 'j1', status: 'processing', worker_id: 'worker-cpu-0', progress: 0 })
    expect(jobs.stats).toMatchObject({ queued: 0, processing: 1 })
    jobs.onEvent('job_updated', { id: 'j1', progress: 42.5, current_stage: 'transcribing', eta_seconds: 12 })
    expect(jobs.jobs[0]).toMatchObject({ progress: 42.5, current_stage: 'transcribing', eta_seconds: 12 })
    jobs.onEvent('job_updated', { id: 'j1', status: 'failed', error: 'boom', error_code: 'bad_media' })
    expect(jobs.stats).toMatchObject({ processing: 0, failed: 1 })
    expect(jobs.failures[0]).toMatchObject({ id: 'j1', error: 'boom' })
  })

  it('re-reads the page and counts after jobs are cleared', async () => {
    const calls = mockFetch({
      'GET /api/jobs': [200, { jobs: [], total: 0, page: 1, page_size: 25 }],
      'GET /api/jobs/stats': [200, { ...STATS, total_jobs: 0, queued: 0 }],
    })
    const jobs = useJobsStore()
    jobs.onEvent('jobs_cleared', { status: 'completed', count: 3 })
    await flush()
    expect(calls.map((c) => c.url.split('?')[0])).toEqual(
      expect.arrayContaining(['/api/jobs/stats', '/api/jobs']),
    )
  })
})

describe('workers store', () => {
  it('follows a job through a worker from events alone', async () => {
    mockFetch({
      'GET /api/workers': [200, [worker()]],
      'GET /api/workers/stats': [200, { total_workers: 1, is_running: true }],
    })
    const workers = useWorkersStore()
    await workers.fetchAll()
    const calls = mockFetch({
      'GET /api/workers': [200, [worker({ jobs_completed: 1 })]],
      'GET /api/workers/stats': [200, { total_workers: 1, is_running: true }],
    })
    workers.onEvent('job_updated', { id: 'j1', status: 'processing', worker_id: 'worker-cpu-0', progress: 0 })
    expect(workers.workers[0]).toMatchObject({ status: 'busy', current_job_id: 'j1' })
    workers.onEvent('job_updated', { id: 'j1', progress: 50, current_stage: 'transcribing', eta_seconds: 7 })
    expect(workers.workers[0]).toMatchObject({
      current_job_progress: 50,
      current_stage: 'transcribing',
      current_job_eta: 7,
    })
    expect(calls).toHaveLength(0) // no request for progress
    workers.onEvent('job_updated', { id: 'j1', status: 'completed', progress: 100 })
    expect(workers.workers[0]).toMatchObject({ status: 'idle', current_job_id: null, jobs_completed: 1 })
  })

  it('adds and removes workers on worker events', () => {
    const workers = useWorkersStore()
    workers.onEvent('worker_added', worker({ worker_id: 'worker-gpu-0', worker_type: 'gpu', device_id: 0 }))
    expect(workers.workers.map((w) => w.worker_id)).toEqual(['worker-gpu-0'])
    workers.onEvent('worker_removed', { worker_id: 'worker-gpu-0' })
    expect(workers.workers).toEqual([])
  })
})

describe('api client and auth', () => {
  it('asks for the key once on 401, keeps it and sends it as X-Api-Key', async () => {
    const calls = mockFetch({
      'GET /api/status': (c) =>
        c.headers['X-Api-Key'] === 'secret' ? [200, { ok: true }] : [401, { detail: 'API key required' }],
    })
    const auth = useAuthStore()
    const a = api('/api/status')
    const b = api('/api/status')
    await flush()
    expect(auth.prompting).toBe(true)
    auth.submitKey('secret')
    await expect(a).resolves.toEqual({ ok: true })
    await expect(b).resolves.toEqual({ ok: true })
    expect(localStorage.getItem(KEY_STORAGE)).toBe('secret')
    expect(calls.filter((c) => c.headers['X-Api-Key'] === 'secret')).toHaveLength(2)
    await api('/api/status')
    expect(calls.at(-1)!.headers['X-Api-Key']).toBe('secret')
  })

  it("toasts the API's detail for a failed call", async () => {
    mockFetch({ 'POST /api/jobs': [409, { detail: 'Job already exists', code: 'duplicate_job' }] })
    const err = await api('/api/jobs', { method: 'POST', body: {} }).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 409, code: 'duplicate_job', detail: 'Job already exists' })
    expect(useToastStore().toasts.map((t) => t.text)).toEqual(['Job already exists'])
  })

  it('joins the messages of a 422 validation error', async () => {
    mockFetch({
      'POST /api/jobs': [422, { detail: [{ loc: ['body', 'target_lang'], msg: 'Field required', type: 'missing' }] }],
    })
    await api('/api/jobs', { method: 'POST', body: {} }).catch(() => {})
    expect(useToastStore().toasts[0].text).toBe('target_lang: Field required')
  })

  it('keeps a quiet failure out of the toasts', async () => {
    mockFetch({ 'PUT /api/settings/x': [400, { detail: 'x: expected an integer' }] })
    await expect(useSettingsStore().update('x', 'abc')).rejects.toMatchObject({ detail: 'x: expected an integer' })
    expect(useToastStore().toasts).toEqual([])
  })
})

describe('settings and resources', () => {
  it('applies setting_updated events', async () => {
    mockFetch({
      'GET /api/settings': [200, [{ id: 1, key: 'library_paths', value: '[]', description: '', category: 'scanner', value_type: 'list', created_at: null, updated_at: null }]],
    })
    const s = useSettingsStore()
    await s.fetchAll()
    s.onEvent('setting_updated', { key: 'library_paths', value: ['/media'] })
    expect(s.value('library_paths')).toBe('["/media"]')
  })

  it('keeps a bounded history for the charts', () => {
    const r = useResourcesStore()
    for (let i = 0; i < 100; i++) {
      r.record({
        cpu: { usage_percent: i, count_logical: 2, count_physical: 1, frequency_mhz: null },
        memory: { total_gb: 8, used_gb: 1, free_gb: 7, usage_percent: 12.5 },
        gpus: [{ id: 0, name: 'gpu', memory_total_mb: 1000, memory_used_mb: 250, memory_free_mb: 750, utilization_percent: 5 }],
      })
    }
    expect(r.cpu).toHaveLength(60)
    expect(r.cpu.at(-1)).toBe(99)
    expect(r.gpu[0].mem.at(-1)).toBe(25)
  })
})

describe('workers store, stale re-reads', () => {
  it('keeps the running job when a re-read lags behind the events', async () => {
    mockFetch({
      'GET /api/workers': [200, [worker()]],
      'GET /api/workers/stats': [200, { total_workers: 1, is_running: true }],
    })
    const workers = useWorkersStore()
    await workers.fetchAll()
    workers.onEvent('job_updated', { id: 'j2', status: 'processing', worker_id: 'worker-cpu-0', progress: 0 })
    await workers.fetchAll() // the API has not heard of j2 on the worker yet
    workers.onEvent('job_updated', { id: 'j2', progress: 30, current_stage: 'transcribing' })
    expect(workers.workers[0]).toMatchObject({ status: 'busy', current_job_id: 'j2', current_job_progress: 30 })
  })

  it('picks up a job that was running before the page loaded', async () => {
    mockFetch({
      'GET /api/workers': [200, [worker({ status: 'busy', current_job_id: 'j9', current_job_progress: 10 })]],
      'GET /api/workers/stats': [200, { total_workers: 1, is_running: true }],
    })
    const workers = useWorkersStore()
    await workers.fetchAll()
    workers.onEvent('job_updated', { id: 'j9', progress: 55 })
    expect(workers.workers[0]).toMatchObject({ current_job_id: 'j9', current_job_progress: 55 })
    workers.onEvent('job_updated', { id: 'j9', status: 'cancelled' })
    expect(workers.workers[0]).toMatchObject({ status: 'idle', current_job_id: null })
  })
})
