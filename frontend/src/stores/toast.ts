import { defineStore } from 'pinia'
import { ref } from 'vue'

export interface Toast {
  id: number
  kind: 'error' | 'success' | 'info'
  text: string
}

let nextId = 1

export const useToastStore = defineStore('toast', () => {
  const toasts = ref<Toast[]>([])
  /** Open modal dialogs, innermost last: toasts show inside it (a modal covers everything else). */
  const modals = ref<number[]>([])

  function push(kind: Toast['kind'], text: string, ms = kind === 'error' ? 8000 : 3500): number {
    // The same message again (several calls failing at once) is one toast, not a stack.
    const same = toasts.value.find((t) => t.kind === kind && t.text === text)
    if (same) return same.id
    const id = nextId++
    toasts.value.push({ id, kind, text })
    if (toasts.value.length > 5) toasts.value.shift()
    if (ms > 0) setTimeout(() => dismiss(id), ms)
    return id
  }
  function dismiss(id: number) {
    toasts.value = toasts.value.filter((t) => t.id !== id)
  }
  return {
    toasts,
    modals,
    push,
    dismiss,
    error: (text: string) => push('error', text),
    success: (text: string) => push('success', text),
    info: (text: string) => push('info', text),
  }
})
