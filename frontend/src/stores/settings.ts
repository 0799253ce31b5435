import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { get, put } from '@/api/client'
import type { Setting } from '@/api/types'

/** How the Settings page renders a setting (GET /api/system/setting-specs). */
export interface SettingSpecInfo {
  key: string
  category: string
  value_type: string
  choices: string[] | null
  minimum: number | null
  maximum: number | null
  secret: boolean
  internal: boolean
  advanced: boolean
  description: string
}

// A household's order: the library first, who may use subtitler (and the network) last.
export const CATEGORY_ORDER = ['scanner', 'transcription', 'workers', 'subtitles', 'translation', 'bazarr', 'integrations', 'general', 'cluster']

export const useSettingsStore = defineStore('settings', () => {
  const settings = ref<Setting[]>([])
  const loaded = ref(false)
  const specs = ref<Record<string, SettingSpecInfo>>({})

  const byCategory = computed(() => {
    const groups: Record<string, Setting[]> = {}
    for (const s of settings.value) (groups[s.category] ??= []).push(s)
    const order = (c: string) => {
      const i = CATEGORY_ORDER.indexOf(c)
      return i < 0 ? CATEGORY_ORDER.length : i
    }
    return Object.keys(groups)
      .sort((a, b) => order(a) - order(b) || a.localeCompare(b))
      .map((category) => ({ category, settings: groups[category] }))
  })

  async function fetchAll() {
    settings.value = await get<Setting[]>('/api/settings')
    loaded.value = true
  }
  async function fetchSpecs() {
    const res = await get<{ specs: SettingSpecInfo[] }>('/api/system/setting-specs', undefined, { quiet: true })
    specs.value = Object.fromEntries(res.specs.map((s) => [s.key, s]))
  }
  function value(key: string): string | null {
    return settings.value.find((s) => s.key === key)?.value ?? null
  }
  /** Saves one value; the caller shows a refusal (400 detail) next to the input. */
  async function update(key: string, v: unknown) {
    const saved = await put<Setting>(`/api/settings/${encodeURIComponent(key)}`, { value: v }, { quiet: true })
    replace(saved)
    return saved
  }
  function replace(s: Setting) {
    const i = settings.value.findIndex((x) => x.key === s.key)
    if (i >= 0) settings.value[i] = s
    else settings.value.push(s)
  }
  function onEvent(type: string, data: Record<string, unknown>) {
    if (type !== 'setting_updated') return
    const s = settings.value.find((x) => x.key === data.key)
    if (s) {
      const v = data.value
      s.value = v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v)
    }
  }
  return { settings, loaded, specs, byCategory, fetchAll, fetchSpecs, value, update, onEvent }
})
