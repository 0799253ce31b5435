import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useLibraryStore } from '@/stores/library'
import { useToastStore } from '@/stores/toast'
import { useAuthStore } from '@/stores/auth'
import { useJobsStore } from '@/stores/jobs'
import { flush, job, mockFetch } from './helpers'

const item = (over: Record<string, unknown> = {}) => ({
  path: '/m/a.mkv',
  name: 'a.mkv',
  folder: '/m',
  series: null,
  season: null,
  size: 1,
  duration_seconds: 1,
  audio_languages: ['eng'],
  subtitles: { embedded: [], external: [], ours: [] },
  verdict: 'wanted',
  reason: null,
  rule_name: 'r',
  ignored: false,
  last_job: null,
  ...over,
})

beforeEach(() => {
  setActivePinia(createPinia())
  vi.unstubAllGlobals()
})

describe('library store', () => {
  it('sends filters, sort and paging to the server', async () => {
    const calls = mockFetch({ 'GET /api/library': [200, { items: [item()], total: 120, page: 2, page_size: 50 }] })
    const lib = useLibraryStore()
    lib.filter.q = 'show'
    lib.filter.missing = 'eng'
    lib.filter.status = 'failed'
    lib.sort = 'size'
    lib.order = 'desc'
    lib.page = 2
    await lib.fetchPage()
    const url = new URL(calls[0].url, 'http://x')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      q: 'show', missing: 'eng', status: 'failed', sort: 'size', order: 'desc', page: '2', page_size: '50',
    })
    expect(lib.pages).toBe(3)
  })

  it('acts on the selection by paths, or on every matching file by the filter', async () => {
    const calls = mockFetch({
      'GET /api/library': [200, { items: [item(), item({ path: '/m/b.mkv' })], total: 300, page: 1, page_size: 50 }],
      'POST /api/library/actions': [200, { action: 'subtitle', matched: 1, affected: 1, errors: [] }],
    })
    const lib = useLibraryStore()
    await lib.fetchPage()
    lib.toggle('/m/a.mkv')
    await lib.act('subtitle')
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ action: 'subtitle', target_language: null, paths: ['/m/a.mkv'] })
    lib.togglePage(true)
    lib.allMatching = true
    lib.filter.q = 'b'
    await lib.act('ignore')
    expect(calls.filter((c) => c.method === 'POST')[1].body).toEqual({
      action: 'ignore', target_language: null, filter: { q: 'b', missing: null, status: null },
    })
  })

  it("follows a file's last job live", async () => {
    mockFetch({ 'GET /api/library': [200, { items: [item()], total: 1, page: 1, page_size: 50 }] })
    const lib = useLibraryStore()
    await lib.fetchPage()
    lib.onEvent('job_created', { ...job({ id: 'j9', file_path: '/m/a.mkv' }) })
    expect(lib.items[0].last_job?.id).toBe('j9')
    lib.onEvent('job_updated', { id: 'j9', status: 'processing', progress: 40 })
    expect(lib.items[0].last_job).toMatchObject({ status: 'processing', progress: 40 })
  })
})

describe('toasts and the key prompt', () => {
  it('one toast for the same message, however many calls fail', () => {
    const toast = useToastStore()
    toast.error('boom')
    toast.error('boom')
    toast.error('other')
    expect(toast.toasts.map((t) => t.text)).toEqual(['boom', 'other'])
  })

  it('Cancel on the key prompt does not reopen it for the next 401', async () => {
    const auth = useAuthStore()
    const first = auth.requestKey()
    expect(auth.prompting).toBe(true)
    auth.submitKey(null)
    expect(await first).toBeNull()
    expect(await auth.requestKey()).toBeNull()
    expect(auth.prompting).toBe(false)
    void auth.askAgain()
    expect(auth.prompting).toBe(true)
  })
})

describe('queue', () => {
  it('a retried job leaves the Failed tab at once', async () => {
    mockFetch({
      'GET /api/jobs': [200, { jobs: [job({ id: 'f1', status: 'failed' })], total: 1, page: 1, page_size: 25 }],
      'POST /api/jobs/f1/retry': [200, job({ id: 'f1', status: 'queued' })],
      'GET /api/jobs/stats': [200, { total_jobs: 1, queued: 1, processing: 0, completed: 0, failed: 0, cancelled: 0 }],
    })
    const jobs = useJobsStore()
    await jobs.setFilter('failed')
    expect(jobs.jobs.map((j) => j.id)).toEqual(['f1'])
    await jobs.retry('f1')
    expect(jobs.jobs).toEqual([])
    expect(jobs.total).toBe(0)
    await flush()
  })

  it('a row whose status changes away from the filter leaves the list (live)', async () => {
    mockFetch({ 'GET /api/jobs': [200, { jobs: [job({ id: 'q1', status: 'queued' })], total: 1, page: 1, page_size: 25 }] })
    const jobs = useJobsStore()
    await jobs.setFilter('queued')
    jobs.onEvent('job_updated', { id: 'q1', status: 'processing' })
    expect(jobs.jobs).toEqual([])
  })
})

describe('path browser', () => {
  it('keeps what the user types while the first listing loads', async () => {
    const { mount } = await import('@vue/test-utils')
    const PathBrowser = (await import('@/components/PathBrowser.vue')).default
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => (release = r))
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        if (url.startsWith('/api/filesystem/common-paths')) return new Response(JSON.stringify([{ path: '/media', name: 'media', is_directory: true, is_readable: true }]))
        await gate
        return new Response(JSON.stringify({ current_path: '/media', parent_path: '/', items: [] }))
      }),
    )
    const w = mount(PathBrowser, { attachTo: document.body })
    await flush()
    const input = w.find('#browser-path-input')
    ;(input.element as HTMLInputElement).focus()
    await input.setValue('/srv/vid')
    release()
    await flush()
    await flush()
    expect((input.element as HTMLInputElement).value).toBe('/srv/vid')
    w.unmount()
  })
})

describe('library truth (issue 18)', () => {
  it('follows a job by its file, even one that fails before the page saw it start', async () => {
    mockFetch({ 'GET /api/library': [200, { items: [item()], total: 1, page: 1, page_size: 50 }] })
    const lib = useLibraryStore()
    await lib.fetchPage()
    // the first event the page gets is the failure (the job took 40 ms)
    lib.onEvent('job_updated', { id: 'j9', status: 'failed', file_path: '/m/a.mkv', error: 'boom', error_code: 'engine_error' })
    expect(lib.items[0].last_job?.status).toBe('failed')
    expect(lib.items[0].last_job?.id).toBe('j9')
    lib.onEvent('job_updated', { id: 'j9', status: 'failed', error_code: 'rule_language_mismatch' })
    expect(lib.items[0].last_job?.skipped).toBe(true)
  })

  it('refetches when the server re-decided a file on the page', async () => {
    const calls = mockFetch({ 'GET /api/library': [200, { items: [item()], total: 1, page: 1, page_size: 50 }] })
    const lib = useLibraryStore()
    await lib.fetchPage()
    const pages = () => calls.filter((c) => c.url.startsWith('/api/library')).length
    const before = pages()
    lib.onEvent('library_updated', { paths: ['/elsewhere.mkv'] })
    await new Promise((r) => setTimeout(r, 400))
    expect(pages()).toBe(before)
    lib.onEvent('library_updated', { paths: ['/m/a.mkv'] })
    await new Promise((r) => setTimeout(r, 400))
    expect(pages()).toBe(before + 1)
  })

  it('keeps filter, search and page in the URL and restores them', () => {
    const lib = useLibraryStore()
    lib.fromQuery({ q: 'news', status: 'done', page: '3', size: '100', order: 'desc' })
    expect([lib.filter.q, lib.filter.status, lib.page, lib.pageSize, lib.order]).toEqual(['news', 'done', 3, 100, 'desc'])
    expect(lib.toQuery()).toEqual({ q: 'news', status: 'done', page: '3', size: '100', order: 'desc' })
    lib.fromQuery({ status: 'bogus', size: '7' })
    expect([lib.filter.status, lib.pageSize, lib.page]).toEqual(['', 50, 1])
    expect(lib.toQuery()).toEqual({})
  })
})
