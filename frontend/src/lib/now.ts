import { onBeforeUnmount, onMounted, ref } from 'vue'

/** The current time, ticking every `ms` while the component is mounted (for "in 5 min" labels). */
export function useNow(ms = 15000) {
  const now = ref(Date.now())
  let t: ReturnType<typeof setInterval> | null = null
  onMounted(() => (t = setInterval(() => (now.value = Date.now()), ms)))
  onBeforeUnmount(() => t && clearInterval(t))
  return now
}
