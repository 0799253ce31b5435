// Every message key the UI names literally exists in English (a missing one would show its key).
import { describe, expect, it } from 'vitest'
import { loadMessages } from '@/i18n'

const sources = import.meta.glob<string>(['../src/**/*.vue', '../src/**/*.ts'], {
  eager: true,
  query: '?raw',
  import: 'default',
})

function has(messages: Record<string, unknown>, key: string): boolean {
  let node: unknown = messages
  for (const part of key.split('.')) {
    if (!node || typeof node !== 'object' || !(part in (node as Record<string, unknown>))) return false
    node = (node as Record<string, unknown>)[part]
  }
  return typeof node === 'string'
}

describe('English messages', () => {
  it('has every key the components use', () => {
    const en = loadMessages().en
    const missing: string[] = []
    let seen = 0
    for (const [file, text] of Object.entries(sources)) {
      if (file.includes('/i18n/')) continue // its comments show example keys
      for (const m of text.matchAll(/\bt[er]?\(\s*'([a-z]+\.[A-Za-z0-9_.]+)'/g)) {
        seen++
        if (!has(en, m[1])) missing.push(`${file}: ${m[1]}`)
      }
    }
    expect(seen).toBeGreaterThan(300)
    expect(missing).toEqual([])
  })
})
