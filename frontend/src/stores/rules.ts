import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { del, get, post, put } from '@/api/client'
import type { Message, Rule, RuleInput, RulePreview } from '@/api/types'

export const useRulesStore = defineStore('rules', () => {
  const rules = ref<Rule[]>([])
  const loaded = ref(false)
  const sorted = computed(() =>
    [...rules.value].sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name)),
  )

  async function fetchAll() {
    rules.value = await get<Rule[]>('/api/scan-rules')
    loaded.value = true
  }
  function replace(r: Rule) {
    const i = rules.value.findIndex((x) => x.id === r.id)
    if (i >= 0) rules.value[i] = r
    else rules.value.push(r)
  }
  async function create(body: RuleInput) {
    const r = await post<Rule>('/api/scan-rules', body)
    replace(r)
    return r
  }
  async function update(id: number, body: Partial<RuleInput>) {
    const r = await put<Rule>(`/api/scan-rules/${id}`, body)
    replace(r)
    return r
  }
  async function toggle(id: number) {
    const r = await post<Rule>(`/api/scan-rules/${id}/toggle`)
    replace(r)
    return r
  }
  async function remove(id: number) {
    const res = await del<Message>(`/api/scan-rules/${id}`)
    rules.value = rules.value.filter((r) => r.id !== id)
    return res
  }
  function preview(body: RuleInput, signal?: AbortSignal, page = 1, pageSize = 50, show: 'matches' | 'all' = 'all') {
    return post<RulePreview>(
      `/api/scan-rules/preview?page=${page}&page_size=${pageSize}&show=${show}`,
      body,
      { quiet: true, signal },
    )
  }
  return { rules, sorted, loaded, fetchAll, create, update, toggle, remove, preview }
})
