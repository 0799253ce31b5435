// CPU, RAM and GPU gauges: the one thing the UI polls (gently, only while a page shows them).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { get } from '@/api/client'
import type { Resources } from '@/api/types'

export const HISTORY = 60

export const useResourcesStore = defineStore('resources', () => {
  const current = ref<Resources | null>(null)
  const cpu = ref<number[]>([])
  const ram = ref<number[]>([])
  const gpu = ref<Record<number, { load: number[]; mem: number[] }>>({})
  let timer: ReturnType<typeof setInterval> | null = null
  let users = 0

  function push(list: number[], v: number) {
    list.push(v)
    if (list.length > HISTORY) list.splice(0, list.length - HISTORY)
  }

  function record(r: Resources) {
    current.value = r
    push(cpu.value, r.cpu.usage_percent)
    push(ram.value, r.memory.usage_percent)
    for (const g of r.gpus) {
      const h = (gpu.value[g.id] ??= { load: [], mem: [] })
      push(h.load, g.utilization_percent ?? 0)
      push(h.mem, g.memory_total_mb ? (100 * g.memory_used_mb) / g.memory_total_mb : 0)
    }
  }

  async function sample() {
    record(await get<Resources>('/api/system/resources', undefined, { quiet: true }))
  }

  /** Start sampling every `ms` (shared by every component that shows the gauges). */
  function watch(ms = 3000) {
    users++
    if (timer) return
    void sample().catch(() => {})
    timer = setInterval(() => {
      if (typeof document !== 'undefined' && document.hidden) return
      void sample().catch(() => {})
    }, ms)
  }
  function unwatch() {
    users = Math.max(0, users - 1)
    if (users === 0 && timer) {
      clearInterval(timer)
      timer = null
    }
  }
  return { current, cpu, ram, gpu, record, sample, watch, unwatch }
})
