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
  subtitles: { embedded: string[]; external: string[]; ours: string[] }
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
  errors: { path: string; detail: string }[]
}
export type LibraryStatus = '' | 'wanted' | 'done' | 'failed' | 'skipped' | 'ours' | 'ignored'

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
  async function act(action: string, opts: { paths?: string[]; target_language?: string | null } = {}) {
    const body: Record<string, unknown> = { action, target_language: opts.target_language ?? null }
    if (opts.paths) body.paths = opts.paths
    else if (allMatching.value) body.filter = filterBody.value
    else body.paths = [...selected.value]
    const res = await post<ActionResult>('/api/library/actions', body)
    void fetchPage().catch(() => {})
    return res
  }
  function ignoreFolder(folder: string) {
    return post<{ marker: string }>('/api/library/ignore-folder', { folder })
  }
  /** A job event for a file on this page: its "last job" follows live. */
  function onEvent(type: string, data: Record<string, unknown>) {
    if (type !== 'job_updated' && type !== 'job_created') return
    const id = String(data.id ?? '')
    for (const item of items.value) {
      if (type === 'job_created' && data.file_path === item.path) {
        item.last_job = {
          id,
          status: String(data.status ?? 'queued'),
          progress: Number(data.progress ?? 0),
          error: null,
          target_lang: (data.target_lang as string | null) ?? null,
          task: String(data.transcribe_or_translate ?? 'transcribe'),
          created_at: (data.created_at as string | null) ?? null,
        }
      } else if (item.last_job?.id === id) {
        if (data.status) item.last_job.status = String(data.status)
        if (typeof data.progress === 'number') item.last_job.progress = data.progress
        if ('error' in data) item.last_job.error = (data.error as string | null) ?? null
      }
    }
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
    onEvent,
  }
})
