// The quality presets and whether their model is installed (GET /api/capabilities): a preset
// whose model is missing is shown marked and cannot be picked (it would silently fall back).
import { computed, ref } from 'vue'
import { get } from '@/api/client'

export interface PresetInfo {
  name: string
  model: string
  installed?: boolean
  falls_back_to?: string | null
}

const presets = ref<PresetInfo[] | null>(null)
let loading: Promise<void> | null = null

export function usePresets() {
  function load() {
    if (!loading) {
      loading = get<{ presets: PresetInfo[] }>('/api/capabilities', undefined, { quiet: true })
        .then((c) => {
          presets.value = c.presets
        })
        .catch(() => {
          loading = null // unknown: every preset stays offered
        })
    }
    return loading
  }
  const byName = computed(() => new Map((presets.value ?? []).map((p) => [p.name, p])))
  /** false only when the server says the preset's model is not installed */
  function installed(name: string) {
    return byName.value.get(name)?.installed !== false
  }
  function missing(name: string) {
    const p = byName.value.get(name)
    return p && p.installed === false ? p : null
  }
  return { presets, load, installed, missing }
}
