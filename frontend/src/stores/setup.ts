import { defineStore } from 'pinia'
import { ref } from 'vue'
import { get, post } from '@/api/client'
import type { Message, SetupResult, SetupStatus, StandaloneSetup } from '@/api/types'

export const useSetupStore = defineStore('setup', () => {
  const status = ref<SetupStatus | null>(null)
  async function fetchStatus() {
    status.value = await get<SetupStatus>('/api/setup/status')
    return status.value
  }
  async function standalone(body: StandaloneSetup) {
    const res = await post<SetupResult>('/api/setup/standalone', body)
    await fetchStatus()
    return res
  }
  async function bazarr() {
    const res = await post<SetupResult>('/api/setup/bazarr-slave')
    await fetchStatus()
    return res
  }
  async function skip() {
    const res = await post<Message>('/api/setup/skip')
    await fetchStatus()
    return res
  }
  return { status, fetchStatus, standalone, bazarr, skip }
})
