// Every mounted component gets the app's i18n instance, as in main.ts.
import { config } from '@vue/test-utils'
import { i18n } from '@/i18n'

config.global.plugins = [...(config.global.plugins ?? []), i18n]
