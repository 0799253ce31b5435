// The queue: one page of jobs, the counts and the recent failures, kept current by job events.
import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { get, post } from '@/api/client'
import type { Job, JobCreate, JobList, JobLogLine, JobStats, JobStatus, Message } from '@/api/types'

const EMPTY_STATS: JobStats = {
  total_jobs: 0,
  queued: 0,
  processing: 0,
  completed: 0,
  failed: 0,
  cancelled: 0,
}
const TERMINAL = new Set(['completed', 'failed', 'cancelled'])

export const useJobsStore = defineStore('jobs', () => {
  const stats = ref<JobStats>({ ...EMPTY_STATS })
  const jobs = ref<Job[]>([])
  const total = ref(0)
  const page = ref(1)
  const pageSize = ref(25)
  const filter = ref<JobStatus | ''>('')
  /** Search, filters and sort (GET /api/jobs params of the jobs API; ignored by older daemons). */
  const query = reactive({ q: '', language: null as string | null, channel: '', error_code: '' })
  const sort = ref('created_at')
  const order = ref<'asc' | 'desc'>('desc')
  let seq = 0
  let refetchTimer: ReturnType<typeof setTimeout> | null = null
  /** Live rows can be inserted at the top only in the default order (newest first, no search). */
  const defaultOrder = computed(
    () => sort.value === 'created_at' && order.value === 'desc' && !query.q && !query.language && !query.channel && !query.error_code,
  )
  const loading = ref(false)
  const failures = ref<Job[]>([])
  /** Jobs opened in the detail panel, by id (kept current by events too). */
  const details = reactive<Record<string, Job>>({})
  let statsTimer: ReturnType<typeof setTimeout> | null = null

  const pages = computed(() => Math.max(1, Math.ceil(total.value / pageSize.value)))

  async function fetchStats() {
    stats.value = await get<JobStats>('/api/jobs/stats')
  }
  async function fetchPage() {
    const mine = ++seq
    loading.value = true
    try {
      const res = await get<JobList>('/api/jobs', {
        status_filter: filter.value || undefined,
        page: page.value,
        page_size: pageSize.value,
        q: query.q.trim() || undefined,
        language: query.language || undefined,
        channel: query.channel || undefined,
        error_code: query.error_code.trim() || undefined,
        sort: sort.value === 'created_at' && order.value === 'desc' ? undefined : sort.value,
        order: sort.value === 'created_at' && order.value === 'desc' ? undefined : order.value,
      })
      if (mine !== seq) return
      jobs.value = res.jobs
      total.value = res.total
      if (res.jobs.length === 0 && page.value > 1 && res.total > 0) {
        page.value = pages.value
        return fetchPage()
      }
    } finally {
      loading.value = false
    }
  }
  async function fetchFailures() {
    const res = await get<JobList>('/api/jobs', { status_filter: 'failed', page: 1, page_size: 5 })
    failures.value = res.jobs
  }
  async function fetchJob(id: string) {
    const job = await get<Job>(`/api/jobs/${encodeURIComponent(id)}`)
    details[id] = job
    return job
  }
  function fetchLog(id: string) {
    return get<JobLogLine[]>(`/api/jobs/${encodeURIComponent(id)}/log`)
  }
  /** The page again, once for a burst of changes we cannot place locally. */
  function refetchSoon() {
    if (refetchTimer) return
    refetchTimer = setTimeout(() => {
      refetchTimer = null
      void fetchPage().catch(() => {})
    }, 400)
  }
  function setSort(key: string) {
    if (sort.value === key) order.value = order.value === 'asc' ? 'desc' : 'asc'
    else {
      sort.value = key
      order.value = key === 'created_at' || key === 'priority' || key === 'progress' ? 'desc' : 'asc'
    }
    page.value = 1
    return fetchPage()
  }
  async function bulk(body: Record<string, unknown>) {
    const res = await post<{ action: string; matched: number; affected: number; errors: { id: string; detail: string }[] }>(
      '/api/jobs/bulk',
      body,
    )
    void Promise.all([fetchStats(), fetchPage(), fetchFailures()]).catch(() => {})
    return res
  }
  function refreshAll() {
    return Promise.all([fetchStats(), fetchPage(), fetchFailures()])
  }

  function setFilter(status: JobStatus | '') {
    filter.value = status
    page.value = 1
    return fetchPage()
  }
  function setPage(n: number) {
    page.value = Math.min(Math.max(1, n), pages.value)
    return fetchPage()
  }

  async function create(body: JobCreate) {
    return post<Job>('/api/jobs', body)
  }
  async function retry(id: string) {
    const job = await post<Job>(`/api/jobs/${encodeURIComponent(id)}/retry`)
    merge(job.id, job)
    if (filter.value && job.status !== filter.value) {
      jobs.value = jobs.value.filter((j) => j.id !== id)
      total.value = Math.max(0, total.value - 1)
    }
    failures.value = failures.value.filter((j) => j.id !== id)
    refreshStatsSoon()
    return job
  }
  function cancel(id: string) {
    return post<Message>(`/api/jobs/${encodeURIComponent(id)}/cancel`)
  }
  function clearCompleted() {
    return post<Message>('/api/jobs/queue/clear')
  }

  function find(id: string): Job | undefined {
    return jobs.value.find((j) => j.id === id) ?? details[id] ?? failures.value.find((j) => j.id === id)
  }

  /** Apply changed fields to every copy of the job we hold. */
  function merge(id: string, fields: Partial<Job>) {
    for (const list of [jobs.value, failures.value]) {
      const j = list.find((x) => x.id === id)
      if (j) Object.assign(j, fields)
    }
    if (details[id]) Object.assign(details[id], fields)
  }

  function bump(status: string, by: number) {
    const key = status as keyof JobStats
    if (key in stats.value && key !== 'total_jobs') {
      stats.value[key] = Math.max(0, stats.value[key] + by)
    }
  }

  /** A count we could not work out locally: read it again soon (once for a burst of events). */
  function refreshStatsSoon() {
    if (statsTimer) return
    statsTimer = setTimeout(() => {
      statsTimer = null
      void fetchStats().catch(() => {})
    }, 300)
  }

  function onJobCreated(job: Job) {
    stats.value.total_jobs++
    bump(job.status, 1)
    if (!defaultOrder.value) {
      refetchSoon()
    } else if (page.value === 1 && (!filter.value || filter.value === job.status)) {
      if (!jobs.value.some((j) => j.id === job.id)) {
        jobs.value.unshift(job)
        if (jobs.value.length > pageSize.value) jobs.value.pop()
      }
      total.value++
    } else if (!filter.value || filter.value === job.status) {
      total.value++
    }
  }

  function onJobUpdated(data: Partial<Job> & { id: string }) {
    const { id, ...fields } = data
    const known = find(id)
    if (fields.status && known && known.status !== fields.status) {
      bump(known.status, -1)
      bump(fields.status, 1)
    } else if (fields.status && !known) {
      refreshStatsSoon()
    }
    merge(id, fields)
    // A row whose status left the tab's filter (a retried job on Failed) leaves the list.
    if (fields.status && filter.value && fields.status !== filter.value) {
      const before = jobs.value.length
      jobs.value = jobs.value.filter((j) => j.id !== id)
      if (jobs.value.length < before) total.value = Math.max(0, total.value - 1)
    } else if (fields.status && filter.value && fields.status === filter.value && !jobs.value.some((j) => j.id === id)) {
      refetchSoon()
    }
    if (!defaultOrder.value && (fields.status || 'priority' in fields)) refetchSoon()
    if (fields.status === 'failed') {
      const job = find(id)
      if (job && !failures.value.some((j) => j.id === id)) {
        failures.value.unshift({ ...job })
        failures.value.splice(5)
      } else if (!job) {
        void fetchFailures().catch(() => {})
      }
    } else if (fields.status && failures.value.some((j) => j.id === id)) {
      failures.value = failures.value.filter((j) => j.id !== id)
    }
  }

  function onEvent(type: string, data: Record<string, unknown>) {
    switch (type) {
      case 'job_created':
        onJobCreated(data as unknown as Job)
        break
      case 'job_updated':
        onJobUpdated(data as unknown as Partial<Job> & { id: string })
        break
      case 'jobs_cleared':
      case 'job_deleted':
        if (type === 'job_deleted') {
          const id = String(data.id)
          jobs.value = jobs.value.filter((j) => j.id !== id)
          failures.value = failures.value.filter((j) => j.id !== id)
          delete details[id]
        }
        void Promise.all([fetchStats(), fetchPage(), fetchFailures()]).catch(() => {})
        break
    }
  }

  return {
    stats,
    jobs,
    total,
    page,
    pageSize,
    pages,
    filter,
    query,
    sort,
    order,
    setSort,
    bulk,
    loading,
    failures,
    details,
    fetchStats,
    fetchPage,
    fetchFailures,
    fetchJob,
    fetchLog,
    refreshAll,
    setFilter,
    setPage,
    create,
    retry,
    cancel,
    clearCompleted,
    find,
    onEvent,
    isTerminal: (s: string) => TERMINAL.has(s),
  }
})
