// The worker pool, live: worker events add and remove workers; job events move a worker's current
// job, stage, progress and ETA. A job finishing re-reads the list once (its counters live there).
import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { del, get, post } from '@/api/client'
import type { Gpu, Message, Worker, WorkerCreate, WorkerStats } from '@/api/types'

export interface ActiveJob {
  worker_id: string
  progress: number | null
  stage: string | null
  eta: number | null
  file_name?: string | null
}

export const useWorkersStore = defineStore('workers', () => {
  /** The pool as the API last described it (plus worker_added/removed events). */
  const raw = ref<Worker[]>([])
  /** Jobs running now, from job events: fresher than `raw`, which a re-read may catch mid-change. */
  const active = reactive<Record<string, ActiveJob>>({})
  /** Jobs seen ending, so a stale re-read does not bring them back onto a worker. */
  const finished = new Set<string>()
  const stats = ref<WorkerStats | null>(null)
  const gpus = ref<Gpu[]>([])
  const loaded = ref(false)
  let refreshTimer: ReturnType<typeof setTimeout> | null = null

  const workers = computed<Worker[]>(() =>
    raw.value.map((w) => {
      const entry = Object.entries(active).find(([, a]) => a.worker_id === w.worker_id)
      if (entry) {
        const [jobId, a] = entry
        return {
          ...w,
          status: 'busy',
          current_job_id: jobId,
          current_job_file: a.file_name ?? (w.current_job_id === jobId ? w.current_job_file : null) ?? null,
          current_job_progress: a.progress,
          current_stage: a.stage,
          current_job_eta: a.eta,
        }
      }
      if (w.current_job_id && finished.has(w.current_job_id)) {
        return { ...w, status: 'idle', current_job_id: null, current_job_file: null, current_job_progress: null, current_stage: null, current_job_eta: null }
      }
      return w
    }),
  )
  const running = computed(() => stats.value?.is_running ?? raw.value.length > 0)

  async function fetchAll() {
    const [list, st] = await Promise.all([
      get<Worker[]>('/api/workers'),
      get<WorkerStats>('/api/workers/stats'),
    ])
    raw.value = list
    stats.value = st
    loaded.value = true
    followStarting()
  }
  // The event stream says when a worker is added or removed, not when a starting one is ready:
  // look again a few times while one is starting (this stops once none is).
  let startingChecks = 0
  let startingTimer: ReturnType<typeof setTimeout> | null = null
  function followStarting() {
    if (!raw.value.some((w) => w.status === 'starting')) {
      startingChecks = 0
      return
    }
    if (startingTimer || startingChecks >= 30) return
    startingChecks++
    startingTimer = setTimeout(() => {
      startingTimer = null
      void fetchAll().catch(() => {})
    }, 1500)
  }
  async function fetchGpus() {
    gpus.value = await get<Gpu[]>('/api/system/gpus')
  }
  function refreshSoon(ms = 300) {
    if (refreshTimer) return
    refreshTimer = setTimeout(() => {
      refreshTimer = null
      void fetchAll().catch(() => {})
    }, ms)
  }

  async function add(body: WorkerCreate) {
    const w = await post<Worker>('/api/workers', body)
    upsert(w)
    refreshSoon()
    return w
  }
  /** Another node's worker is removed through that node (the API forwards with `node_id`). */
  async function remove(id: string, nodeId: string | null = null) {
    const query = nodeId ? `?node_id=${encodeURIComponent(nodeId)}` : ''
    const res = await del<Message>(`/api/workers/${encodeURIComponent(id)}${query}`)
    raw.value = raw.value.filter((w) => !sameWorker(w, id, nodeId))
    refreshSoon()
    return res
  }
  async function startPool(cpu: number, gpu: number) {
    const res = await post<Message>(
      `/api/workers/pool/start?cpu_workers=${cpu}&gpu_workers=${gpu}`,
    )
    await fetchAll()
    return res
  }
  async function stopPool() {
    const res = await post<Message>('/api/workers/pool/stop')
    await fetchAll()
    return res
  }

  /** Worker ids repeat across nodes; a description without a node is this node's. */
  function sameWorker(w: Worker, id: string, nodeId: string | null): boolean {
    return w.worker_id === id && (!w.node_id || !nodeId || w.node_id === nodeId)
  }
  function upsert(w: Worker) {
    const i = raw.value.findIndex((x) => sameWorker(x, w.worker_id, w.node_id ?? null))
    if (i >= 0) raw.value[i] = { ...raw.value[i], ...w }
    else raw.value.push(w)
  }

  function onJobUpdated(data: Record<string, unknown>) {
    const id = String(data.id)
    const status = data.status as string | undefined
    if (status === 'processing' && data.worker_id) {
      finished.delete(id)
      active[id] = {
        worker_id: String(data.worker_id),
        progress: (data.progress as number | undefined) ?? 0,
        stage: null,
        eta: null,
        file_name: (data.file_name as string | undefined) ?? null,
      }
      if (!raw.value.some((w) => w.worker_id === data.worker_id)) refreshSoon()
      return
    }
    let a = active[id]
    if (!a) {
      // A job that was running before this page loaded: the API's list says where.
      const w = raw.value.find((x) => x.current_job_id === id)
      if (!w || (status && status !== 'processing')) {
        if (w && status) endJob(id, w.worker_id, status)
        return
      }
      a = active[id] = {
        worker_id: w.worker_id,
        progress: w.current_job_progress,
        stage: w.current_stage,
        eta: w.current_job_eta,
        file_name: w.current_job_file ?? null,
      }
    }
    if ('progress' in data) a.progress = data.progress as number
    if ('current_stage' in data) a.stage = data.current_stage as string | null
    if ('eta_seconds' in data) a.eta = data.eta_seconds as number | null
    if (status && status !== 'processing') endJob(id, a.worker_id, status)
  }

  function endJob(id: string, workerId: string, status: string) {
    delete active[id]
    finished.add(id)
    const w = raw.value.find((x) => x.worker_id === workerId)
    if (w) {
      if (status === 'completed') w.jobs_completed++
      if (status === 'failed') w.jobs_failed++
    }
    refreshSoon(500)
  }

  function onEvent(type: string, data: Record<string, unknown>) {
    if (type === 'worker_added') {
      upsert(data as unknown as Worker)
      startingChecks = 0
      refreshSoon()
    } else if (type === 'worker_removed') {
      raw.value = raw.value.filter((w) => !sameWorker(w, String(data.worker_id), (data.node_id as string) ?? null))
      for (const [id, a] of Object.entries(active)) if (a.worker_id === data.worker_id) delete active[id]
      refreshSoon()
    } else if (type === 'job_updated') {
      onJobUpdated(data)
    }
  }

  return {
    workers,
    active,
    stats,
    gpus,
    loaded,
    running,
    fetchAll,
    fetchGpus,
    add,
    remove,
    startPool,
    stopPool,
    onEvent,
  }
})
