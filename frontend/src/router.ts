import { createRouter, createWebHistory, type Router } from 'vue-router'
import { useSetupStore } from '@/stores/setup'

export const routes = [
  { path: '/', name: 'dashboard', component: () => import('@/views/DashboardView.vue'), meta: { title: 'Dashboard' } },
  { path: '/queue', name: 'queue', component: () => import('@/views/QueueView.vue'), meta: { title: 'Queue' } },
  { path: '/rules', name: 'rules', component: () => import('@/views/RulesView.vue'), meta: { title: 'Rules' } },
  { path: '/scanner', name: 'scanner', component: () => import('@/views/ScannerView.vue'), meta: { title: 'Scanner' } },
  { path: '/workers', name: 'workers', component: () => import('@/views/WorkersView.vue'), meta: { title: 'Workers' } },
  { path: '/connections', name: 'connections', component: () => import('@/views/ConnectionsView.vue'), meta: { title: 'Connections' } },
  { path: '/settings', name: 'settings', component: () => import('@/views/SettingsView.vue'), meta: { title: 'Settings' } },
  { path: '/setup', name: 'setup', component: () => import('@/views/SetupView.vue'), meta: { title: 'Setup' } },
  { path: '/:pathMatch(.*)*', redirect: '/' },
]

export function makeRouter(): Router {
  const router = createRouter({ history: createWebHistory(), routes })
  let checked = false
  // First run: send the user to the wizard once.
  router.beforeEach(async (to) => {
    if (checked) return true
    checked = true
    try {
      const status = await useSetupStore().fetchStatus()
      if (status.is_first_run && to.name !== 'setup') return { name: 'setup' }
    } catch {
      /* toasted; show the page anyway */
    }
    return true
  })
  router.afterEach((to) => {
    document.title = `${String(to.meta.title ?? '')} · subtitler`
  })
  return router
}
