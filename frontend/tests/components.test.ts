import { beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import SettingField from '@/components/SettingField.vue'
import RuleEditor from '@/components/RuleEditor.vue'
import LanguageSelect from '@/components/LanguageSelect.vue'
import { flush, mockFetch } from './helpers'

const setting = {
  id: 1,
  key: 'scanner_interval_minutes',
  value: '360',
  description: 'Minutes between scans',
  category: 'scanner',
  value_type: 'integer',
  created_at: null,
  updated_at: null,
  secret: false,
}

beforeEach(() => {
  setActivePinia(createPinia())
  vi.unstubAllGlobals()
})

describe('SettingField', () => {
  it("shows the API's refusal next to the input", async () => {
    const calls = mockFetch({
      'PUT /api/settings/scanner_interval_minutes': [
        400,
        { detail: "scanner_interval_minutes: expected an integer, got 'abc'", code: 'invalid_setting' },
      ],
    })
    const w = mount(SettingField, { props: { setting } })
    // a label and help written for users, not the code name
    expect(w.find('label').text()).toBe('Scan every (minutes)')
    expect(w.text()).toContain('How often the library is scanned')
    await w.find('input').setValue('abc')
    await w.find('form').trigger('submit')
    await flush()
    await flush()
    expect(calls[0].body).toEqual({ value: 'abc' })
    // the setting's code name and "got" are not shown: the label already names the setting
    expect(w.find('[data-testid="setting-error"]').text()).toBe("Expected an integer (you entered 'abc')")
    expect(w.find('input').attributes('aria-invalid')).toBe('true')
  })

  it('edits a list one item a line and sends a list', async () => {
    const calls = mockFetch({
      'GET /api/system/check-path': [200, { is_dir: true, readable: true }],
      'PUT /api/settings/library_paths': (c) => [200, { ...setting, key: 'library_paths', value_type: 'list', value: JSON.stringify(c.body && (c.body as { value: unknown }).value) }],
    })
    const w = mount(SettingField, {
      props: { setting: { ...setting, key: 'library_paths', value_type: 'list', value: '["/a"]' } },
    })
    const ta = w.find('textarea')
    expect((ta.element as HTMLTextAreaElement).value).toBe('/a')
    await ta.setValue('/a\n/b\n')
    await w.find('form').trigger('submit')
    await flush()
    await flush()
    const put = calls.find((c) => c.method === 'PUT')
    expect(put?.body).toEqual({ value: ['/a', '/b'] })
    expect(calls.filter((c) => c.url.startsWith('/api/system/check-path')).map((c) => c.url)).toEqual([
      '/api/system/check-path?path=%2Fa',
      '/api/system/check-path?path=%2Fb',
    ])
  })

  it('refuses a library folder that does not exist, in place, without saving', async () => {
    const calls = mockFetch({
      'GET /api/system/check-path': [200, { is_dir: false, readable: false }],
    })
    const w = mount(SettingField, {
      props: { setting: { ...setting, key: 'library_paths', value_type: 'list', value: '[]' } },
    })
    await w.find('textarea').setValue('/nope')
    await w.find('form').trigger('submit')
    await flush()
    await flush()
    expect(calls.some((c) => c.method === 'PUT')).toBe(false)
    expect(w.find('[data-testid="setting-error"]').text()).toContain('/nope')
  })

  it('offers fixed choices as a drop-down with readable names', async () => {
    const w = mount(SettingField, {
      props: {
        setting: { ...setting, key: 'auth_mode', value_type: 'string', value: 'local_exempt' },
        spec: { key: 'auth_mode', category: 'general', value_type: 'string', choices: ['local_exempt', 'always'], minimum: null, maximum: null, secret: false, internal: false, advanced: false, description: '' },
      },
    })
    const options = w.findAll('select option').map((o) => o.text())
    expect(options).toEqual(['Not needed on my home network', 'Always required'])
  })

  it('edits a quality preset field by field and sends an object', async () => {
    const calls = mockFetch({ 'PUT /api/settings/preset_fast': (c) => [200, { ...setting, key: 'preset_fast', value_type: 'json', value: JSON.stringify((c.body as { value: unknown }).value) }] })
    const w = mount(SettingField, {
      props: { setting: { ...setting, key: 'preset_fast', value_type: 'json', value: '{"model": "base", "compute_type": "int8", "beam_size": 1, "batch_size": 8}' } },
    })
    expect(w.find('textarea').exists()).toBe(false)
    await w.find('input[type="number"]').setValue(3)
    await w.find('form').trigger('submit')
    await flush()
    expect(calls[0].body).toEqual({ value: { model: 'base', compute_type: 'int8', beam_size: 3, batch_size: 8 } })
  })
})

describe('LanguageSelect', () => {
  it('shows names and emits ISO 639-2 codes', async () => {
    const w = mount(LanguageSelect, { props: { modelValue: null, label: 'Audio', id: 'x' } })
    const opts = w.findAll('option').map((o) => o.text())
    expect(opts).toContain('Japanese')
    await w.find('select').setValue('jpn')
    expect(w.emitted('update:modelValue')![0]).toEqual(['jpn'])
  })
  it('keeps a comma-separated list in multiple mode', async () => {
    const w = mount(LanguageSelect, { props: { modelValue: 'jpn', label: 'Not', multiple: true, id: 'y' } })
    expect(w.text()).toContain('Japanese')
    await w.find('select').setValue('kor')
    expect(w.emitted('update:modelValue')![0]).toEqual(['jpn,kor'])
  })
})

describe('RuleEditor', () => {
  it('previews the rule being edited and saves every field', async () => {
    vi.useFakeTimers()
    const calls = mockFetch({
      'POST /api/scan-rules/preview': [
        200,
        {
          rule: {},
          paths_scanned: ['/media'],
          scanned_files: 3,
          total: 3,
          page: 1,
          page_size: 50,
          files: [
            { file_path: '/media/a.mkv', file_name: 'a.mkv', conditions: [], job: { task: 'transcribe', target_lang: 'spa' } },
            { file_path: '/media/b.mkv', file_name: 'b.mkv', conditions: [{ condition: 'audio_language_is', outcome: 'fail', reason: 'audio is German' }], job: null },
          ],
        },
      ],
    })
    const w = mount(RuleEditor, { props: { rule: null } })
    await w.find('select#c-audio-is').setValue('jpn')
    await w.find('select#a-target').setValue('spa')
    await w.find('input[name="c-ext"]').setValue('.mkv')
    await vi.advanceTimersByTimeAsync(600)
    vi.useRealTimers()
    await flush()
    const preview = calls.filter((c) => c.url.startsWith('/api/scan-rules/preview'))
    expect(preview.length).toBeGreaterThan(0)
    expect(preview.at(-1)!.body).toMatchObject({
      conditions: { audio_language_is: 'jpn', file_extension: '.mkv' },
      action: { target_language: 'spa' },
    })
    expect(w.find('[data-testid="preview-summary"]').text()).toMatch(/1\s+of 3 files/)
    expect(w.text()).toContain('Spanish')
    expect(w.text()).toContain('audio is German')

    await w.find('input[name="rule-name"]').setValue('Anime')
    await w.find('form').trigger('submit')
    const saved = w.emitted('save')![0][0] as Record<string, unknown>
    expect(saved).toMatchObject({
      name: 'Anime',
      enabled: true,
      conditions: { audio_language_is: 'jpn', file_extension: '.mkv', audio_track_count_min: null },
      action: { action_type: 'transcribe', target_language: 'spa', quality_preset: 'fast' },
    })
  })
})

import PathBrowser from '@/components/PathBrowser.vue'

describe('PathBrowser', () => {
  it('lets the latest navigation win over a slow first listing', async () => {
    let releaseFirst: () => void = () => {}
    const listing = (path: string, items: string[]) => ({
      current_path: path,
      parent_path: '/',
      items: items.map((n) => ({ name: n, path: `${path}/${n}`, is_directory: !n.includes('.'), is_readable: true })),
    })
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        if (url.startsWith('/api/filesystem/common-paths'))
          return new Response(JSON.stringify([{ name: '/media', path: '/media', is_directory: true, is_readable: true }]))
        if (url.includes('path=%2Fmedia&'))
          await new Promise<void>((r) => (releaseFirst = r))
        const path = decodeURIComponent(/path=([^&]+)/.exec(url)![1])
        return new Response(JSON.stringify(listing(path, path === '/media' ? ['Shows'] : ['a.mkv'])))
      }),
    )
    const w = mount(PathBrowser, { props: { mode: 'file' } })
    await flush()
    await w.find('#browser-path-input').setValue('/library')
    await w.find('form').trigger('submit')
    await flush()
    releaseFirst()
    await flush()
    await flush()
    expect(w.text()).toContain('a.mkv')
    expect(w.text()).not.toContain('Shows')
    await w.find('[data-path="/library/a.mkv"]').trigger('click')
    expect(w.emitted('select')![0]).toEqual(['/library/a.mkv'])
  })
})
