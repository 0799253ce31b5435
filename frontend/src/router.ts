import { createRouter, createWebHistory, type Router } from 'vue-router'
import { useSetupStore } from '@/stores/setup'
import { i18n } from '@/i18n'

export const routes = [
  { path: '/', name: 'dashboard', component: () => import('@/views/DashboardView.vue'), meta: { title: 'Dashboard' } },
  { path: '/library', name: 'library', component: () => import('@/views/LibraryView.vue'), meta: { title: 'Library' } },
  { path: '/history', name: 'history', component: () => import('@/views/HistoryView.vue'), meta: { title: 'History' } },
  { path: '/queue', name: 'queue', component: () => import('@/views/QueueView.vue'), meta: { title: 'Queue' } },
  { path: '/rules', name: 'rules', component: () => import('@/views/RulesView.vue'), meta: { title: 'Rules' } },
  { path: '/scanner', name: 'scanner', component: () => import('@/views/ScannerView.vue'), meta: { title: 'Scanner' } },
  { path: '/workers', name: 'workers', component: () => import('@/views/WorkersView.vue'), meta: { title: 'Workers' } },
  { path: '/connections', name: 'connections', component: () => import('@/views/ConnectionsView.vue'), meta: { title: 'Connections' } },
  { path: '/settings', name: 'settings', component: () => import('@/views/SettingsView.vue'), meta: { title: 'Settings' } },
  { path: '/system', name: 'system', component: () => import('@/views/SystemView.vue'), meta: { title: 'System' } },
  { path: '/logs', name: 'logs', component: () => import('@/views/LogsView.vue'), meta: { title: 'Logs' } },
  { path: '/setup', name: 'setup', component: () => import('@/views/SetupView.vue'), meta: { title: 'Setup' } },
  { path: '/:pathMatch(.*)*', name: 'notFound', component: () => import('@/views/NotFoundView.vue'), meta: { title: 'Not found' } },
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
    const key = `nav.${String(to.name ?? '')}`
    const title = i18n.global.te(key) ? i18n.global.t(key) : String(to.meta.title ?? '')
    document.title = `${title} · subtitler`
  })
  return router
}
