import { defineStore } from 'pinia'
import { ref } from 'vue'
import { get, post } from '@/api/client'

export interface Sender {
  name: string
  enabled: boolean
  webhook_url: string
}
export interface ServerInfo {
  name: string
  url: string
  configured: boolean
}
export interface Overview {
  senders: Sender[]
  servers: ServerInfo[]
  path_mappings: string[][]
  playback_enabled: boolean
  templates: Record<string, string>
  signature_header: string
}
export interface PathPreview {
  their_path: string
  our_path: string | null
  mapped: boolean
  exists: boolean
}
export interface ServerTest {
  ok: boolean
  server: string
  libraries: { name: string; paths: string[] }[]
  example: PathPreview | null
}
export interface Delivery {
  id: number
  created_at: string
  direction: 'in' | 'out'
  channel: string
  event: string
  status: string
  target: string | null
  detail: string | null
  attempts: number
  job_ids: string[]
}

export const SENDER_LABELS: Record<string, string> = {
  sonarr: 'Sonarr',
  radarr: 'Radarr',
  jellyfin: 'Jellyfin',
  emby: 'Emby',
  plex: 'Plex',
  tautulli: 'Tautulli',
}

export const useConnectionsStore = defineStore('connections', () => {
  const overview = ref<Overview | null>(null)
  const deliveries = ref<Delivery[]>([])

  async function fetchOverview() {
    overview.value = await get<Overview>('/api/connections')
    return overview.value
  }
  async function fetchDeliveries() {
    deliveries.value = (await get<{ items: Delivery[] }>('/api/connections/deliveries', { limit: 50 })).items
  }
  function testServer(name: string, body: { url?: string; api_key?: string }) {
    return post<ServerTest>(`/api/connections/servers/${name}/test`, body, { quiet: true })
  }
  function preview(path: string, mappings?: string[][]) {
    return post<PathPreview>('/api/connections/path-preview', { path, mappings }, { quiet: true })
  }
  function sendTest() {
    return post<{ deliveries: Delivery[] }>('/api/connections/notifications/test')
  }
  function rotateSecret() {
    return post<{ secret: string; header: string }>('/api/connections/notifications/secret')
  }
  return { overview, deliveries, fetchOverview, fetchDeliveries, testServer, preview, sendTest, rotateSecret }
})
