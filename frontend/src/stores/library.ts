// The Library page: one server-side page of the library index with its filters, and actions on
// a selection (explicit paths, or "every file matching the filter").
import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { get, post } from '@/api/client'

export interface LibraryJob {
  id: string
  status: string
  progress: number
  error: string | null
  error_code?: string | null
  /** failed only because the audio is another language than the rule wants: a skip */
  skipped?: boolean
  target_lang: string | null
  task: string
  created_at: string | null
}
export interface LibraryItem {
  path: string
  name: string
  folder: string
  series: string | null
  season: number | null
  size: number
  duration_seconds: number | null
  audio_languages: string[]
  /** languages jobs detected on untagged audio tracks */
  detected_languages?: string[]
  subtitles: { embedded: string[]; external: string[]; ours: string[]; forced?: string[] }
  verdict: string
  reason: string | null
  rule_name: string | null
  ignored: boolean
  last_job: LibraryJob | null
}
export interface LibraryPage {
  items: LibraryItem[]
  total: number
  page: number
  page_size: number
}
export interface ActionResult {
  action: string
  matched: number
  affected: number
  errors: { path: string; detail: string; code?: string }[]
}
export type LibraryStatus =
  | ''
  | 'wanted'
  | 'done'
  | 'failed'
  | 'skipped'
  | 'ours'
  | 'ignored'
  | 'foreign_no_forced'

export const useLibraryStore = defineStore('library', () => {
  const items = ref<LibraryItem[]>([])
  const total = ref(0)
  const loading = ref(false)
  const filter = reactive({ q: '', missing: null as string | null, status: '' as LibraryStatus })
  const sort = ref('name')
  const order = ref<'asc' | 'desc'>('asc')
  const page = ref(1)
  const pageSize = ref(50)
  const selected = ref<Set<string>>(new Set())
  /** "All N matching": the action goes by the filter, not by paths. */
  const allMatching = ref(false)
  let seq = 0

  const pages = computed(() => Math.max(1, Math.ceil(total.value / pageSize.value)))
  const filterBody = computed(() => ({
    q: filter.q.trim() || null,
    missing: filter.missing || null,
    status: filter.status || null,
  }))

  async function fetchPage() {
    const mine = ++seq // a slow answer to an older query never overwrites a newer one
    loading.value = true
    try {
      const res = await get<LibraryPage>('/api/library', {
        ...filterBody.value,
        sort: sort.value,
        order: order.value,
        page: page.value,
        page_size: pageSize.value,
      })
      if (mine !== seq) return
      items.value = res.items
      total.value = res.total
    } finally {
      if (mine === seq) loading.value = false
    }
  }
  function resetSelection() {
    selected.value = new Set()
    allMatching.value = false
  }
  function setFilter() {
    page.value = 1
    resetSelection()
    return fetchPage()
  }
  function setPage(n: number) {
    page.value = Math.min(Math.max(1, n), pages.value)
    return fetchPage()
  }
  function toggle(path: string) {
    const next = new Set(selected.value)
    if (next.has(path)) next.delete(path)
    else next.add(path)
    selected.value = next
    allMatching.value = false
  }
  function togglePage(on: boolean) {
    const next = new Set(selected.value)
    for (const i of items.value) {
      if (on) next.add(i.path)
      else next.delete(i.path)
    }
    selected.value = next
    if (!on) allMatching.value = false
  }
  async function act(
    action: string,
    opts: {
      paths?: string[]
      target_language?: string | null
      quality_preset?: string | null
      also_when_present?: boolean
      quiet?: boolean
    } = {},
  ) {
    const body: Record<string, unknown> = { action, target_language: opts.target_language ?? null }
    if (opts.quality_preset) body.quality_preset = opts.quality_preset
    if (opts.also_when_present) body.also_when_present = true
    if (opts.paths) body.paths = opts.paths
    else if (allMatching.value) body.filter = filterBody.value
    else body.paths = [...selected.value]
    const res = await post<ActionResult>('/api/library/actions', body, { quiet: opts.quiet })
    void fetchPage().catch(() => {})
    return res
  }
  function ignoreFolder(folder: string) {
    return post<{ marker: string }>('/api/library/ignore-folder', { folder })
  }
  /** Stop ignoring a folder: its .subtitlerignore goes, its files are decided again. */
  async function unignoreFolder(folder: string) {
    const res = await post<{ marker: string | null; files: number }>('/api/library/unignore-folder', { folder })
    void fetchPage().catch(() => {})
    return res
  }
  /** Job events for files on this page: the "last job" follows live (a job that fails in 40 ms
   *  included), and the server's re-decided verdicts (`library_updated`) refetch the page. */
  let refetch: ReturnType<typeof setTimeout> | null = null
  function refetchSoon() {
    if (refetch) return
    refetch = setTimeout(() => {
      refetch = null
      void fetchPage().catch(() => {})
    }, 300)
  }
  function onEvent(type: string, data: Record<string, unknown>) {
    if (type === 'library_updated') {
      const paths = new Set((data.paths as string[] | undefined) ?? [])
      if (items.value.some((i) => paths.has(i.path))) refetchSoon()
      return
    }
    if (type !== 'job_updated' && type !== 'job_created') return
    const id = String(data.id ?? '')
    for (const item of items.value) {
      const mine = item.last_job?.id === id
      if (!mine && data.file_path !== item.path) continue
      if (!mine) {
        // a job of this file the page has not seen yet (created, or its first event)
        item.last_job = {
          id,
          status: String(data.status ?? 'queued'),
          progress: Number(data.progress ?? 0),
          error: (data.error as string | null) ?? null,
          error_code: (data.error_code as string | null) ?? null,
          target_lang: (data.target_lang as string | null) ?? item.last_job?.target_lang ?? null,
          task: String(data.transcribe_or_translate ?? item.last_job?.task ?? 'transcribe'),
          created_at: (data.created_at as string | null) ?? null,
        }
        if (type === 'job_created' && !item.ignored) item.verdict = 'wanted'
        continue
      }
      const job = item.last_job as LibraryJob
      if (data.status) job.status = String(data.status)
      if (typeof data.progress === 'number') job.progress = data.progress
      if ('error' in data) job.error = (data.error as string | null) ?? null
      if ('error_code' in data) {
        job.error_code = (data.error_code as string | null) ?? null
        job.skipped = job.status === 'failed' && job.error_code === 'rule_language_mismatch'
      }
    }
  }
  /** The page's state as URL query values (filter, search, page...), and back. */
  function toQuery(): Record<string, string> {
    const q: Record<string, string> = {}
    if (filter.q.trim()) q.q = filter.q.trim()
    if (filter.missing) q.missing = filter.missing
    if (filter.status) q.status = filter.status
    if (sort.value !== 'name') q.sort = sort.value
    if (order.value !== 'asc') q.order = order.value
    if (page.value > 1) q.page = String(page.value)
    if (pageSize.value !== 50) q.size = String(pageSize.value)
    return q
  }
  function fromQuery(query: Record<string, unknown>) {
    const one = (k: string) => (typeof query[k] === 'string' ? (query[k] as string) : '')
    filter.q = one('q')
    filter.missing = one('missing') || null
    const status = one('status') as LibraryStatus
    filter.status = ['', 'wanted', 'done', 'failed', 'skipped', 'ours', 'ignored'].includes(status) ? status : ''
    sort.value = one('sort') || 'name'
    order.value = one('order') === 'desc' ? 'desc' : 'asc'
    page.value = Math.max(1, Number(one('page')) || 1)
    const size = Number(one('size'))
    pageSize.value = [25, 50, 100].includes(size) ? size : 50
  }
  return {
    items,
    total,
    loading,
    filter,
    sort,
    order,
    page,
    pageSize,
    pages,
    selected,
    allMatching,
    fetchPage,
    setFilter,
    setPage,
    toggle,
    togglePage,
    resetSelection,
    act,
    ignoreFolder,
    unignoreFolder,
    onEvent,
    toQuery,
    fromQuery,
  }
})
