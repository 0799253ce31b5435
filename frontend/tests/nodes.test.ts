import { beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import NodesPanel from '@/components/NodesPanel.vue'
import { useWorkersStore } from '@/stores/workers'
import { flush, mockFetch } from './helpers'

const node = (over: Record<string, unknown>) => ({
  node_id: 'nas',
  host: 'nas.lan',
  version: '0.1.0',
  role: 'full',
  url: 'http://nas.lan:8000',
  devices: [{ type: 'cpu', cores: 4 }],
  duties: ['leases', 'scanner'],
  mappings: [],
  heartbeat_age_seconds: 2,
  online: true,
  is_self: true,
  jobs_running: 1,
  workers: 1,
  started_at: null,
  ...over,
})

beforeEach(() => {
  setActivePinia(createPinia())
  vi.unstubAllGlobals()
})

describe('NodesPanel', () => {
  it('shows every node with heartbeat age, version, devices, duties and running jobs', async () => {
    mockFetch({
      'GET /api/cluster/nodes': [
        200,
        [
          node({}),
          node({
            node_id: 'gaming-pc', host: 'pc', role: 'worker', is_self: false, duties: [],
            devices: [{ type: 'cpu', cores: 16 }, { type: 'gpu', id: 0, name: 'RTX 4070' }],
            mappings: [{ queue: '/media', local: '/mnt/nas/media' }], jobs_running: 2,
            heartbeat_age_seconds: 95, online: false,
          }),
        ],
      ],
    })
    const w = mount(NodesPanel, { props: { intervalMs: 60_000 } })
    await flush()
    await flush()
    const nas = w.find('[data-node="nas"]').text()
    expect(nas.replace(/\s+/g, ' ')).toContain('nas.lan · full · this node')
    expect(nas).toContain('online')
    expect(nas).toContain('2 s ago')
    expect(nas).toContain('4 CPU cores')
    expect(nas).toContain('leases, scanner')
    const pc = w.find('[data-node="gaming-pc"]').text()
    expect(pc).toContain('workers only')
    expect(pc).toContain('offline')
    expect(pc).toContain('1 min 35 s ago')
    expect(pc).toContain('GPU #0 RTX 4070')
    expect(pc).toContain('/media → /mnt/nas/media')
    expect(w.find('[data-node="gaming-pc"]').findAll('td')[4].text()).toBe('2')
    w.unmount()
  })
})

describe('workers store across nodes', () => {
  it("removes another node's worker through the API with its node_id", async () => {
    const calls = mockFetch({ 'DELETE /api/workers/worker-cpu-0': [200, { message: 'ok' }] })
    const store = useWorkersStore()
    await store.remove('worker-cpu-0', 'gaming-pc')
    expect(calls[0].method).toBe('DELETE')
    expect(calls[0].url).toContain('/api/workers/worker-cpu-0?node_id=gaming-pc')
  })
})
