import { beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { i18n } from '@/i18n'
import { cleanMessage, codeOf, shownError } from '@/lib/errors'
import ErrorText from '@/components/ErrorText.vue'
import SettingField from '@/components/SettingField.vue'
import { flush, mockFetch } from './helpers'

const { t, te } = i18n.global

beforeEach(() => {
  setActivePinia(createPinia())
  vi.unstubAllGlobals()
})

describe('errors for people', () => {
  it('turns codes into sentences and keeps the code for the details line', () => {
    const e = shownError('media_unreadable', "[Errno 1094995529] Invalid data found when processing input: '/m/a.mkv'", t, te)
    expect(e.sentence).toBe('This file could not be read: it may be damaged or not a video.')
    expect(e.code).toBe('media_unreadable')
    const bracket = shownError(null, '[media_unreadable] ffprobe failed', t, te)
    expect(bracket.code).toBe('media_unreadable')
    expect(bracket.sentence).not.toContain('[')
  })
  it('cleans a message it has no sentence for', () => {
    expect(codeOf('[worker_crashed] boom')).toBe('worker_crashed')
    expect(cleanMessage('[some_new_code] [Errno 5] input/output error')).toBe('Input/output error')
    expect(cleanMessage('max_line_chars: must be >= 20, got 5')).toBe('Must be at least 20 (you entered 5)')
    expect(cleanMessage('scan_rules[0].target_language: must be <= 3')).toBe('Must be at most 3')
    expect(shownError(null, '', t, te).sentence).toBe('Something went wrong.')
  })
  it('renders the sentence and a small details line', () => {
    const w = mount(ErrorText, { props: { code: 'output_exists', message: '[output_exists] /m/a.en.srt exists' } })
    expect(w.find('.error-text').text()).toBe('A subtitle you made yourself is already there, so it was left alone.')
    expect(w.find('.error-code').text()).toBe('Details: output_exists')
    expect(w.text()).not.toContain('[output_exists]')
  })
  it('says a missing translation pair is not a network fault', () => {
    expect(t('translation.noPair')).toBe('no translation provider for this pair')
  })
})

describe('API key field', () => {
  const keySetting = {
    id: 2, key: 'api_key', value: '********', description: '', category: 'general', value_type: 'string',
    created_at: null, updated_at: null, secret: true,
  }
  it('Show and Copy use the real key, read once from the admin route', async () => {
    const calls = mockFetch({ 'GET /api/system/api-key': [200, { api_key: 'k'.repeat(32) }] })
    const written: string[] = []
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText: async (s: string) => void written.push(s) } })
    const w = mount(SettingField, { props: { setting: keySetting } })
    const input = () => w.find('[data-testid="api-key-value"]').element as HTMLInputElement
    expect(input().type).toBe('password')
    await w.find('[data-testid="show-api-key"]').trigger('click')
    await flush()
    expect(input().type).toBe('text')
    expect(input().value).toBe('k'.repeat(32))
    await w.find('[data-testid="copy-api-key"]').trigger('click')
    await flush()
    expect(written).toEqual(['k'.repeat(32)])
    expect(calls.filter((c) => c.url.startsWith('/api/system/api-key')).length).toBe(1)
  })
  it('Regenerate asks first', async () => {
    const calls = mockFetch({})
    const w = mount(SettingField, { props: { setting: keySetting } })
    await w.find('[data-testid="regenerate-api-key"]').trigger('click')
    await flush()
    expect(w.find('[data-testid="confirm-regenerate"]').exists()).toBe(true)
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
  })
})

describe('folder browser in Settings', () => {
  const listing = {
    current_path: '/media',
    parent_path: '/',
    items: [{ name: 'TV', path: '/media/TV', is_directory: true, is_readable: true, size: null, modified: null }],
  }
  it('adds a chosen folder to a folder list', async () => {
    mockFetch({
      'GET /api/filesystem/common-paths': [200, []],
      'GET /api/filesystem/browse': [200, listing],
    })
    const base = { id: 3, description: '', category: 'scanner', created_at: null, updated_at: null, secret: false }
    const w = mount(SettingField, { props: { setting: { ...base, key: 'library_paths', value_type: 'list', value: '["/a"]' } } })
    await w.find('[data-testid="browse-library_paths"]').trigger('click')
    await flush()
    await flush()
    await w.find('[data-testid="select-folder"]').trigger('click')
    await flush()
    expect((w.find('textarea').element as HTMLTextAreaElement).value).toBe('/a\n/media')
  })
  it('fills the "path here" side of a path mapping', async () => {
    mockFetch({
      'GET /api/filesystem/common-paths': [200, []],
      'GET /api/filesystem/browse': [200, listing],
    })
    const base = { id: 4, description: '', category: 'bazarr', created_at: null, updated_at: null, secret: false }
    const w = mount(SettingField, { props: { setting: { ...base, key: 'path_mappings', value_type: 'json', value: '[["/tv", ""]]' } } })
    await w.find('[data-testid="browse-mapping-0"]').trigger('click')
    await flush()
    await flush()
    await w.find('[data-testid="select-folder"]').trigger('click')
    await flush()
    const inputs = w.findAll('.editor-row input')
    expect((inputs[1].element as HTMLInputElement).value).toBe('/media')
  })
})
