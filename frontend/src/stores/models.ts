// Models by name (System > Models, the wizard's offer): the catalog with what is installed, in
// use and downloading; download progress arrives as `model_download` events.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { del, get, post } from '@/api/client'

export interface ModelDownload {
  state: 'downloading' | 'failed' | 'done'
  bytes_done: number
  bytes_total: number
  progress: number
  file: string
  error: string | null
  code: string | null
}
export interface ModelRow {
  kind: string
  name: string
  description: string
  repo: string | null
  family: string | null
  license: string | null
  languages: string[]
  any_language: boolean
  pair: string[] | null
  size_bytes: number
  installed: boolean
  source: string | null
  deletable: boolean
  in_catalog: boolean
  in_use: string[]
  download: ModelDownload | null
}
export interface ModelsListing {
  models: ModelRow[]
  download_allowed: boolean
  free_bytes: number
  models_dir: string
}

export const useModelsStore = defineStore('models', () => {
  const listing = ref<ModelsListing | null>(null)

  async function fetchAll() {
    listing.value = await get<ModelsListing>('/api/models')
    return listing.value
  }
  async function download(row: Pick<ModelRow, 'kind' | 'name'>, use = false) {
    const state = await post<ModelDownload>(
      `/api/models/${encodeURIComponent(row.kind)}/${encodeURIComponent(row.name)}/download${use ? '?use=true' : ''}`,
    )
    const found = listing.value?.models.find((m) => m.kind === row.kind && m.name === row.name)
    if (found) found.download = state
    return state
  }
  async function remove(row: Pick<ModelRow, 'kind' | 'name'>) {
    await del(`/api/models/${encodeURIComponent(row.kind)}/${encodeURIComponent(row.name)}`)
    await fetchAll()
  }
  async function offer(target: string, source: string | null) {
    return get<ModelRow[]>('/api/models/offer', { target, source }, { quiet: true })
  }
  function onEvent(type: string, data: Record<string, unknown>) {
    if (type !== 'model_download' || !listing.value) return
    const row = listing.value.models.find((m) => m.kind === data.kind && m.name === data.name)
    if (row) row.download = data as unknown as ModelDownload
    if (data.state === 'done' || data.state === 'failed') void fetchAll().catch(() => {})
  }
  return { listing, fetchAll, download, remove, offer, onEvent }
})
