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
