import { beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ConnectionsPanel from '@/components/ConnectionsPanel.vue'
import { flush, mockFetch } from './helpers'

const overview = {
  senders: ['sonarr', 'radarr', 'jellyfin', 'emby', 'plex', 'tautulli'].map((name) => ({
    name,
    enabled: name !== 'emby',
    webhook_url: `http://subtitler:9000/api/webhooks/${name}?apikey=k3y`,
  })),
  servers: ['jellyfin', 'emby', 'plex', 'sonarr', 'radarr', 'tautulli'].map((name) => ({
    name,
    url: name === 'plex' ? 'http://plex:32400' : '',
    configured: name === 'plex',
  })),
  path_mappings: [['/data/tv', '/media/tv']],
  playback_enabled: true,
  templates: { jellyfin: '{"NotificationType": "{{NotificationType}}"}', tautulli_on_created: '{}', tautulli_on_play: '{}' },
  signature_header: 'X-Subtitler-Signature',
}

beforeEach(() => {
  setActivePinia(createPinia())
  vi.unstubAllGlobals()
})

describe('ConnectionsPanel', () => {
  it('shows the URL to paste, tests a server and maps a real example path', async () => {
    const calls = mockFetch({
      'GET /api/connections': [200, overview],
      'POST /api/connections/servers/plex/test': [
        200,
        {
          ok: true,
          server: 'plex',
          libraries: [{ name: 'TV Shows', paths: ['/data/tv'] }],
          example: { their_path: '/data/tv', our_path: '/media/tv', mapped: true, exists: true },
        },
      ],
      'POST /api/connections/path-preview': (c) => {
        const body = c.body as { path: string; mappings: string[][] }
        const m = body.mappings.find(([theirs]) => body.path.startsWith(theirs))
        return [200, { their_path: body.path, our_path: m ? body.path.replace(m[0], m[1]) : null, mapped: !!m, exists: !!m }]
      },
      'PUT /api/settings/path_mappings': (c) => [200, { key: 'path_mappings', value: JSON.stringify((c.body as { value: unknown }).value) }],
    })
    const w = mount(ConnectionsPanel)
    await flush()
    await flush()
    // Plex is configured: chosen already; Sonarr is chosen by the user.
    expect(w.find('[data-testid="app-plex"]').exists()).toBe(true)
    await w.find('[data-testid="choose-sonarr"]').setValue(true)
    expect((w.find('#hook-sonarr').element as HTMLInputElement).value).toBe(overview.senders[0].webhook_url)

    await w.find('[data-testid="test-plex"]').trigger('click')
    await flush()
    await flush()
    expect(w.find('[data-testid="test-result-plex"]').text()).toContain('TV Shows')
    expect(w.find('[data-testid="mapping-example"]').text()).toContain('/data/tv → /media/tv')

    // Editing the mapping re-maps the same example live; saving sends the pairs.
    const ours = w.findAll('[data-testid="path-mappings"] input.mono')[1]
    await ours.setValue('/srv/tv')
    await flush()
    await flush()
    expect(w.find('[data-testid="mapping-example"]').text()).toContain('/data/tv → /srv/tv')
    await w.find('[data-testid="save-mappings"]').trigger('click')
    await flush()
    const saved = calls.find((c) => c.url.startsWith('/api/settings/path_mappings'))
    expect(saved?.body).toEqual({ value: [['/data/tv', '/srv/tv']] })
  })
})

describe('ConnectionsPanel keeps what is typed', () => {
  it('saves a URL and token when the field is left, and the rest when the panel goes away', async () => {
    const calls = mockFetch({
      'GET /api/connections': [200, overview],
      'PUT /api/settings/jellyfin_url': (c) => [200, { key: 'jellyfin_url', value: (c.body as { value: string }).value }],
      'PUT /api/settings/jellyfin_api_key': [200, { key: 'jellyfin_api_key', value: '********' }],
      'PUT /api/settings/sonarr_url': (c) => [200, { key: 'sonarr_url', value: (c.body as { value: string }).value }],
      'PUT /api/settings/path_mappings': (c) => [200, { key: 'path_mappings', value: JSON.stringify((c.body as { value: unknown }).value) }],
    })
    const w = mount(ConnectionsPanel)
    await flush()
    await flush()
    await w.find('[data-testid="choose-jellyfin"]').setValue(true)
    await w.find('[data-testid="url-jellyfin"]').setValue('http://jf:8096')
    await w.find('[data-testid="url-jellyfin"]').trigger('change')
    await w.find('[data-testid="token-jellyfin"]').setValue('jf-token')
    await w.find('[data-testid="token-jellyfin"]').trigger('change')
    await flush()
    await flush()
    const puts = () => calls.filter((c) => c.method === 'PUT').map((c) => [c.url.split('?')[0], c.body])
    expect(puts()).toContainEqual(['/api/settings/jellyfin_url', { value: 'http://jf:8096' }])
    expect(puts()).toContainEqual(['/api/settings/jellyfin_api_key', { value: 'jf-token' }])
    expect(w.find('[data-testid="autosaved-jellyfin"]').exists()).toBe(true)
    // typed but never left (the wizard's Next or Finish takes the panel away): saved on unmount
    await w.find('[data-testid="choose-sonarr"]').setValue(true)
    await w.find('[data-testid="url-sonarr"]').setValue('http://sonarr:8989')
    const ours = w.findAll('[data-testid="path-mappings"] input.mono')[1]
    await ours.setValue('/srv/tv')
    const before = puts().length
    w.unmount()
    await flush()
    await flush()
    const after = puts().slice(before)
    expect(after).toContainEqual(['/api/settings/sonarr_url', { value: 'http://sonarr:8989' }])
    expect(after).toContainEqual(['/api/settings/path_mappings', { value: [['/data/tv', '/srv/tv']] }])
    // Plex was not touched: not saved again
    expect(after.some(([u]) => String(u).includes('plex'))).toBe(false)
  })
})
