// The API key: asked for once when the API answers 401, kept in localStorage, sent as X-Api-Key
// (never in a URL: the event stream opens with a short-lived token from POST /api/events/token).
import { defineStore } from 'pinia'
import { ref } from 'vue'

export const KEY_STORAGE = 'subtitler.apiKey'

function load(): string | null {
  try {
    return localStorage.getItem(KEY_STORAGE)
  } catch {
    return null
  }
}

export const useAuthStore = defineStore('auth', () => {
  const apiKey = ref<string | null>(load())
  const prompting = ref(false)
  const lastRejected = ref<string | null>(null)
  /** The user closed the prompt: calls fail quietly until they ask for it again (no loop). */
  const dismissed = ref(false)
  let waiting: Promise<string | null> | null = null
  let resolveWaiting: ((key: string | null) => void) | null = null

  /** One prompt for all the calls that got a 401 at the same time. */
  function requestKey(): Promise<string | null> {
    if (dismissed.value) return Promise.resolve(null)
    if (waiting) return waiting
    prompting.value = true
    waiting = new Promise((resolve) => {
      resolveWaiting = resolve
    })
    return waiting
  }

  function submitKey(key: string | null) {
    const k = key?.trim() || null
    if (k) setKey(k)
    dismissed.value = !k
    prompting.value = false
    resolveWaiting?.(k)
    waiting = null
    resolveWaiting = null
  }

  function setKey(key: string | null) {
    apiKey.value = key
    try {
      if (key) localStorage.setItem(KEY_STORAGE, key)
      else localStorage.removeItem(KEY_STORAGE)
    } catch {
      /* private mode: keep it in memory */
    }
  }

  /** The stored key was refused: forget it so the next 401 asks again. */
  function rejectKey() {
    if (apiKey.value) lastRejected.value = apiKey.value
    setKey(null)
  }

  /** "Enter API key" after a Cancel: prompt again now. */
  function askAgain() {
    dismissed.value = false
    return requestKey()
  }

  return { apiKey, prompting, lastRejected, dismissed, requestKey, submitKey, setKey, rejectKey, askAgain }
})
