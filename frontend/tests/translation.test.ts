import { beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import TranslationSettings from '@/components/TranslationSettings.vue'
import TranslationHint from '@/components/TranslationHint.vue'
import { reachOf, useTranslation, type ProvidersInfo } from '@/composables/useTranslation'
import { flush, mockFetch } from './helpers'

const apertium: ProvidersInfo = {
  provider: 'apertium',
  english_via: 'whisper',
  prefer_subtitles: true,
  reachable: true,
  any_pair: false,
  pairs: [
    { source: 'eng', target: 'spa' },
    { source: 'spa', target: 'eng' },
  ],
  detail: null,
  code: null,
  providers: [
    { name: 'none', offline: true, fields: [] },
    { name: 'apertium', offline: true, fields: [] },
    {
      name: 'deepl',
      offline: false,
      fields: [{ key: 'deepl_api_key', secret: true, value_type: 'string', choices: [], required: true, description: 'key' }],
    },
  ],
}

beforeEach(() => {
  setActivePinia(createPinia())
  vi.unstubAllGlobals()
})

describe('reachOf', () => {
  it('tells per target whether it needs translation and whether the provider reaches it', () => {
    expect(reachOf(apertium, 'eng', 'eng')).toBe('same')
    expect(reachOf(apertium, 'jpn', 'eng')).toBe('whisper')
    expect(reachOf(apertium, 'eng', 'spa')).toBe('ok')
    expect(reachOf(apertium, 'jpn', 'spa')).toBe('unreachable')
    expect(reachOf(apertium, null, 'spa')).toBe('unknown')
    expect(reachOf(apertium, null, 'deu')).toBe('unreachable')
    expect(reachOf({ ...apertium, reachable: false }, 'eng', 'spa')).toBe('unreachable')
    expect(reachOf({ ...apertium, english_via: 'provider' }, 'spa', 'eng')).toBe('ok')
  })
})

describe('TranslationHint', () => {
  it('marks an unreachable target', async () => {
    mockFetch({ 'GET /api/translation/providers': [200, apertium] })
    await useTranslation().load(true)
    const w = mount(TranslationHint, { props: { source: 'jpn', target: 'spa' } })
    await flush()
    expect(w.find('[data-test="translation-hint"]').classes()).toContain('warn')
    expect(w.text()).toContain('apertium cannot reach')
    await w.setProps({ source: 'eng', target: 'spa' })
    expect(w.text()).toContain('apertium can translate it')
  })
})

describe('TranslationSettings', () => {
  it('shows the provider state and runs a test translation', async () => {
    const calls = mockFetch({
      'GET /api/translation/providers': [200, apertium],
      'POST /api/translation/test': [
        200,
        { provider: 'apertium', model: 'apertium', source: 'eng', target: 'spa', text: 'Hi', translation: 'Hola', latency_ms: 12.5, characters: 2 },
      ],
    })
    const w = mount(TranslationSettings)
    await flush()
    await flush()
    expect(w.find('[data-test="translation-status"]').text()).toContain('Reachable')
    await w.find('button.primary').trigger('click')
    await flush()
    await flush()
    const test = calls.find((c) => c.url.startsWith('/api/translation/test'))
    expect(test?.body).toMatchObject({ provider: 'apertium', target: 'spa' })
    expect(w.find('[data-test="translation-result"]').text()).toContain('Hola')
  })

  it('shows a refusal naming the field', async () => {
    mockFetch({
      'GET /api/translation/providers': [200, apertium],
      'POST /api/translation/test': [422, { detail: 'deepl_api_key: required for the deepl provider; it is empty', code: 'missing_setting' }],
    })
    const w = mount(TranslationSettings)
    await flush()
    await w.find('button.primary').trigger('click')
    await flush()
    await flush()
    expect(w.find('[data-test="translation-error"]').text()).toContain('deepl_api_key')
  })
})
