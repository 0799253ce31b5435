// What the configured translation provider can reach, for every view that picks a target
// language (rule editor, New job, wizard): one fetch of /api/translation/providers, shared.
import { ref } from 'vue'
import { get, post } from '@/api/client'

export interface Pair {
  source: string
  target: string
}
export interface ProviderField {
  key: string
  secret: boolean
  value_type: string
  choices: string[]
  required: boolean
  description: string
}
export interface ProvidersInfo {
  provider: string
  english_via: 'whisper' | 'provider'
  prefer_subtitles: boolean
  reachable: boolean
  any_pair: boolean
  pairs: Pair[]
  detail: string | null
  code: string | null
  providers: { name: string; offline: boolean; fields: ProviderField[] }[]
}
export interface TestResult {
  provider: string
  model: string
  source: string
  target: string
  text: string
  translation: string
  latency_ms: number
  characters: number
}
/** 'same': no translation; 'whisper': English by Whisper; 'ok' / 'unreachable': by the provider;
 * 'unknown': the audio's language is not known yet (translated if it differs). */
export type Reach = 'same' | 'whisper' | 'ok' | 'unreachable' | 'unknown'

/** Settings the Translation section shows itself (the provider and each provider's fields). */
export function isProviderKey(key: string): boolean {
  return key === 'translation_provider' || /^(openai|libretranslate|deepl|ctranslate2)_/.test(key)
}

const info = ref<ProvidersInfo | null>(null)
let pending: Promise<ProvidersInfo | null> | null = null

export function reachOf(data: ProvidersInfo | null, source: string | null, target: string | null): Reach {
  if (!target) return 'same'
  if (source && source === target) return 'same'
  if (target === 'eng' && (data?.english_via ?? 'whisper') === 'whisper') return 'whisper'
  if (!data || !data.reachable || data.provider === 'none') return source ? 'unreachable' : 'unknown'
  if (!source) return data.any_pair || data.pairs.some((p) => p.target === target) ? 'unknown' : 'unreachable'
  return data.any_pair || data.pairs.some((p) => p.source === source && p.target === target) ? 'ok' : 'unreachable'
}

export function useTranslation() {
  async function load(force = false): Promise<ProvidersInfo | null> {
    if (info.value && !force) return info.value
    if (!pending || force) {
      pending = get<ProvidersInfo>('/api/translation/providers', undefined, { quiet: true })
        .then((d) => (info.value = d))
        .catch(() => null)
        .finally(() => {
          pending = null
        })
    }
    return pending
  }
  function reach(source: string | null, target: string | null): Reach {
    return reachOf(info.value, source, target)
  }
  /** Can the target be offered for audio in `source` (null: unknown)? */
  function reachable(source: string | null, target: string): boolean {
    return reach(source, target) !== 'unreachable'
  }
  async function test(body: { provider?: string; target: string; text?: string; settings?: Record<string, unknown> }) {
    return post<TestResult>('/api/translation/test', body, { quiet: true })
  }
  return { info, load, reach, reachable, test }
}
