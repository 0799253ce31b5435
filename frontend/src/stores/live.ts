// One event stream for the whole UI, handed to every store. After a reconnect the stores read
// their state again (events sent while the stream was down are gone).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { LiveEvents, type EventType } from '@/api/events'
import { buildUrl, post } from '@/api/client'
import { useJobsStore } from './jobs'
import { useLibraryStore } from './library'
import { useModelsStore } from './models'
import { useScannerStore } from './scanner'
import { useSettingsStore } from './settings'
import { useWorkersStore } from './workers'

export const useLiveStore = defineStore('live', () => {
  const state = ref<'idle' | 'connecting' | 'open' | 'reconnecting'>('idle')
  const lastEventAt = ref<number | null>(null)
  let events: LiveEvents | null = null

  function dispatch(type: EventType, data: Record<string, unknown>) {
    lastEventAt.value = Date.now()
    useJobsStore().onEvent(type, data)
    useWorkersStore().onEvent(type, data)
    useScannerStore().onEvent(type, data)
    useSettingsStore().onEvent(type, data)
    useLibraryStore().onEvent(type, data)
    useModelsStore().onEvent(type, data)
  }

  function resync() {
    const jobs = useJobsStore()
    void jobs.refreshAll().catch(() => {})
    void useWorkersStore().fetchAll().catch(() => {})
    void useScannerStore().fetchStatus().catch(() => {})
  }

  function start() {
    if (events) return
    events = new LiveEvents({
      // A short-lived token from an authenticated POST: the API key never goes into a URL.
      url: async () => {
        const res = await post<{ token: string }>('/api/events/token', undefined, { quiet: true })
        return buildUrl('/api/events', { token: res.token })
      },
      onEvent: dispatch,
      onOpen: (reconnected) => {
        if (reconnected) resync()
      },
      onState: (s) => (state.value = s),
    })
    events.start()
  }
  function restart() {
    events?.restart()
  }
  function stop() {
    events?.stop()
    events = null
    state.value = 'idle'
  }
  return { state, lastEventAt, start, restart, stop, dispatch }
})
