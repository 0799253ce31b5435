import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { makeRouter } from './router'
import { i18n } from './i18n'
import './styles.css'

const app = createApp(App)
app.use(createPinia())
app.use(makeRouter())
app.use(i18n)
app.mount('#app')
