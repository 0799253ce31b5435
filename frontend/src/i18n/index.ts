// vue-i18n set-up. Messages live in one JSON file per area under locales/<lang>/<area>.json and are
// addressed as `<area>.<key>` (t('common.save'), t('translation.provider')), so areas never share a
// file. A new language is a new folder with the same files; English is the fallback.
import { createI18n, type LocaleMessages, type VueMessageType } from 'vue-i18n'

type Messages = Record<string, unknown>

const files = import.meta.glob<{ default: Messages }>('./locales/*/*.json', { eager: true })

export function loadMessages(): Record<string, Messages> {
  const messages: Record<string, Messages> = {}
  for (const [path, mod] of Object.entries(files)) {
    const match = /\.\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path)
    if (!match) continue
    const [, lang, area] = match
    messages[lang] ??= {}
    messages[lang][area] = mod.default
  }
  return messages
}

export const SUPPORTED_LOCALES = Object.keys(loadMessages())

function initialLocale(): string {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem('subtitler.locale') : null
  if (saved && SUPPORTED_LOCALES.includes(saved)) return saved
  const nav = typeof navigator !== 'undefined' ? navigator.language.split('-')[0] : 'en'
  return SUPPORTED_LOCALES.includes(nav) ? nav : 'en'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'en',
  messages: loadMessages() as LocaleMessages<Record<string, VueMessageType>>,
})
