import { defineStore } from 'pinia'
import { ref } from 'vue'
import { get, post } from '@/api/client'
import type {
  Message,
  ScannerStatus,
  ScanRequest,
  ScanResult,
  SchedulerStart,
  WatcherStart,
} from '@/api/types'

export const useScannerStore = defineStore('scanner', () => {
  const status = ref<ScannerStatus | null>(null)
  const lastResult = ref<ScanResult | null>(null)
  const scanning = ref(false)

  async function fetchStatus() {
    status.value = await get<ScannerStatus>('/api/scanner/status')
    scanning.value = status.value.scan_in_progress
  }
  async function scan(body?: ScanRequest) {
    scanning.value = true
    try {
      lastResult.value = await post<ScanResult>('/api/scanner/scan', body)
      return lastResult.value
    } finally {
      scanning.value = false
      void fetchStatus().catch(() => {})
    }
  }
  async function startScheduler(body?: SchedulerStart) {
    const res = await post<Message>('/api/scanner/scheduler/start', body)
    await fetchStatus()
    return res
  }
  async function stopScheduler() {
    const res = await post<Message>('/api/scanner/scheduler/stop')
    await fetchStatus()
    return res
  }
  async function startWatcher(body?: WatcherStart) {
    const res = await post<Message>('/api/scanner/watcher/start', body)
    await fetchStatus()
    return res
  }
  async function stopWatcher() {
    const res = await post<Message>('/api/scanner/watcher/stop')
    await fetchStatus()
    return res
  }

  function onEvent(type: string, data: Record<string, unknown>) {
    if (type === 'scan_started') {
      scanning.value = true
      if (status.value) status.value.scan_in_progress = true
    } else if (type === 'scan_finished') {
      scanning.value = false
      lastResult.value = data as unknown as ScanResult
      void fetchStatus().catch(() => {})
    } else if (type === 'setting_updated' && String(data.key).startsWith('scanner_')) {
      void fetchStatus().catch(() => {})
    }
  }

  return {
    status,
    lastResult,
    scanning,
    fetchStatus,
    scan,
    startScheduler,
    stopScheduler,
    startWatcher,
    stopWatcher,
    onEvent,
  }
})
