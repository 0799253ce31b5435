// A setting's label: its written English label (settings.label.<key>) where there is one, else its
// key in words ("db_backup_hours" -> "Database backup hours"), so no raw code name reaches a user.

const WORDS: Record<string, string> = {
  api: 'API', asr: 'ASR', cpu: 'CPU', gpu: 'GPU', url: 'URL', urls: 'URLs', db: 'Database',
  json: 'JSON', vad: 'VAD', mib: 'MiB', kib: 'KiB', mb: 'MB', gb: 'GB', id: 'ID', ids: 'IDs',
  ctranslate2: 'CTranslate2', deepl: 'DeepL', openai: 'OpenAI', libretranslate: 'LibreTranslate',
  apertium: 'Apertium', jellyfin: 'Jellyfin', emby: 'Emby', plex: 'Plex', sonarr: 'Sonarr',
  radarr: 'Radarr', tautulli: 'Tautulli', apprise: 'Apprise', bazarr: 'Bazarr', sse: 'SSE',
}

export function humanizeKey(key: string): string {
  const words = key.split('_').filter(Boolean).map((w) => WORDS[w] ?? w)
  if (!words.length) return key
  const [first, ...rest] = words
  return [first.charAt(0).toUpperCase() + first.slice(1), ...rest].join(' ')
}

export function settingLabel(key: string, t: (k: string) => string, te: (k: string) => boolean): string {
  return te(`settings.label.${key}`) ? t(`settings.label.${key}`) : humanizeKey(key)
}
